//! Issue 10: pools an operator can change under held addresses without
//! losing or duplicating any — `disable: true` (item 4), reserved
//! addresses (item 5).

mod common;

use berth_core::{AllocError, Allocator, Pool, Reserved};
use common::*;
use std::net::IpAddr;

fn disabled(name: &str, subnet: &str) -> Pool {
    let mut s = spec(name, subnet, &[]);
    s.disable = true;
    Pool::from_spec(&s).expect("valid pool")
}

fn held(alloc: &Allocator) -> Vec<(String, IpAddr)> {
    let mut all: Vec<_> = alloc
        .records()
        .map(|r| (r.pod.name.clone(), r.address))
        .collect();
    all.sort();
    all
}

#[test]
fn a_disabled_pool_hands_out_nothing_new_and_keeps_what_it_holds() {
    let mut alloc = Allocator::new(vec![
        pool("a", "10.41.0.0/28", &[]),
        pool("b", "10.42.0.0/28", &[]),
    ])
    .expect("pools");
    let chain = NativeChain::sticky();
    let db0 = add(&mut alloc, &sts_input("c1", "db", 0, &["a"]), &chain, 1).expect("db-0")[0];
    let web = add(&mut alloc, &input("c2", "web", &["a"]), &chain, 1).expect("web")[0];
    // db-0's pod is deleted: its address is retained for the identity.
    run(&mut alloc, |a| a.plan_del(&attachment("c1"), 2));
    let before = held(&alloc);

    alloc
        .replace_pools(vec![
            disabled("a", "10.41.0.0/28"),
            pool("b", "10.42.0.0/28", &[]),
        ])
        .expect("reload");
    assert_eq!(held(&alloc), before, "disabling releases nothing");

    // Nothing new from `a`: a new pod, a new identity, a named address.
    for new in [
        input("c3", "web-2", &["a"]),
        sts_input("c4", "db", 1, &["a"]),
    ] {
        let err = alloc.plan_add(&new, &chain, 3).expect_err("disabled");
        assert!(
            matches!(&err, AllocError::PoolsDisabled { pools, .. } if pools == &["a"]),
            "{err}"
        );
        assert!(err.to_string().contains("disabled"), "{err}");
    }
    let mut asked = input("c5", "web-3", &["a"]);
    asked.requested = vec!["10.41.0.9".parse().expect("address")];
    let err = alloc.plan_add(&asked, &chain, 3).expect_err("disabled");
    assert!(err.to_string().contains("pool \"a\" is disabled"), "{err}");
    assert_eq!(held(&alloc), before, "refusals change nothing");

    // What it holds stays usable: the re-created StatefulSet pod (new
    // container) gets its retained address back, a repeated ADD its own.
    let again = add(&mut alloc, &sts_input("c6", "db", 0, &["a"]), &chain, 4).expect("db-0 again");
    assert_eq!(again, vec![db0]);
    assert_eq!(
        add(&mut alloc, &input("c2", "web", &["a"]), &chain, 4).expect("web"),
        vec![web]
    );
    // With another pool named, new pods get addresses there.
    let other = add(&mut alloc, &input("c7", "web-4", &["a", "b"]), &chain, 4).expect("b")[0];
    assert!(other.to_string().starts_with("10.42."), "{other}");

    // A released address of a disabled pool is not handed out again...
    run(&mut alloc, |a| a.plan_del(&attachment("c2"), 5));
    let err = alloc
        .plan_add(&input("c8", "web-5", &["a"]), &chain, 5)
        .expect_err("still disabled");
    assert!(matches!(err, AllocError::PoolsDisabled { .. }), "{err}");
    // ...until the pool is enabled again.
    alloc
        .replace_pools(vec![
            pool("a", "10.41.0.0/28", &[]),
            pool("b", "10.42.0.0/28", &[]),
        ])
        .expect("reload");
    add(&mut alloc, &input("c8", "web-5", &["a"]), &chain, 6).expect("enabled again");
}

fn reserved(entries: &[&str]) -> Reserved {
    Reserved::parse(&entries.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("valid")
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("ip")
}

/// Item 5: reserved addresses are never handed out, by any pool; one
/// reserved while held stays with its holder until released.
#[test]
fn reserved_addresses_are_never_handed_out_and_never_taken_away() {
    let pools = || {
        vec![
            pool("a", "10.43.0.0/29", &[]),
            pool("v6", "fd00:43::/125", &[]),
        ]
    };
    let mut alloc = Allocator::new(pools()).expect("pools");
    let chain = NativeChain::sticky();
    // db-0 holds .1 (sticky, retained after DEL), web holds .2.
    let db0 = add(&mut alloc, &sts_input("c1", "db", 0, &["a"]), &chain, 1).expect("db-0")[0];
    let web = add(&mut alloc, &input("c2", "web", &["a"]), &chain, 1).expect("web")[0];
    assert_eq!((db0, web), (ip("10.43.0.1"), ip("10.43.0.2")));
    run(&mut alloc, |a| a.plan_del(&attachment("c1"), 2));

    // Reserve both held addresses, .4-.5, and a v6 range.
    let r = reserved(&[
        "10.43.0.1",
        "10.43.0.2",
        "10.43.0.4-10.43.0.5",
        "fd00:43::/126",
    ]);
    alloc.reconfigure(pools(), r.clone()).expect("reserve");
    alloc.check_invariants().expect("invariants");
    let usage = alloc.pool_usage();
    assert_eq!(
        (usage[0].used, usage[0].total, usage[0].reserved),
        (2, 6, 4)
    );
    assert_eq!(
        (usage[1].used, usage[1].total, usage[1].reserved),
        (0, 7, 3)
    );

    // New pods get only unreserved addresses: .3 and .6, then nothing.
    let mut got = Vec::new();
    for i in 0..2 {
        got.extend(
            add(
                &mut alloc,
                &input(&format!("n{i}"), &format!("n{i}"), &["a"]),
                &chain,
                3,
            )
            .expect("free"),
        );
    }
    got.sort();
    assert_eq!(got, vec![ip("10.43.0.3"), ip("10.43.0.6")]);
    let err = alloc
        .plan_add(&input("n9", "n9", &["a"]), &chain, 3)
        .expect_err("full");
    assert!(matches!(err, AllocError::PoolExhausted { .. }), "{err}");
    let mut asked = input("n8", "n8", &["a"]);
    asked.requested = vec!["10.43.0.4".parse().expect("address")];
    let err = alloc.plan_add(&asked, &chain, 3).expect_err("reserved");
    assert!(err.to_string().contains("reserved"), "{err}");
    let v6 = add(&mut alloc, &input("n7", "n7", &["v6"]), &chain, 3).expect("v6")[0];
    assert_eq!(v6, ip("fd00:43::4"), "fd00:43::1-3 are reserved");

    // The holders keep what they held: db-0's re-created pod gets .1 back.
    let again = add(&mut alloc, &sts_input("c3", "db", 0, &["a"]), &chain, 4).expect("db-0 again");
    assert_eq!(again, vec![db0]);
    // web's DEL releases .2, which is then not handed out while reserved.
    run(&mut alloc, |a| a.plan_del(&attachment("c2"), 5));
    assert!(alloc.record(web).is_none());
    let err = alloc
        .plan_add(&input("n9", "n9", &["a"]), &chain, 5)
        .expect_err("still full");
    assert!(matches!(err, AllocError::PoolExhausted { .. }), "{err}");

    // Lifting the reservation makes them free again.
    alloc
        .reconfigure(pools(), Reserved::default())
        .expect("unreserve");
    alloc.check_invariants().expect("invariants");
    assert_eq!(
        add(&mut alloc, &input("n9", "n9", &["a"]), &chain, 6)
            .expect("free again")
            .len(),
        1
    );
    assert_eq!(alloc.pool_usage()[0].reserved, 0);
}

#[test]
fn holdings_count_every_record_naming_a_pool_and_name_those_its_ranges_left() {
    let mut alloc = Allocator::new(vec![
        pool("a", "10.43.0.0/28", &[]),
        pool("b", "10.44.0.0/28", &[]),
    ])
    .expect("pools");
    let chain = NativeChain::sticky();
    let mut in_a = Vec::new();
    for i in 0..6 {
        let input = input(&format!("c{i}"), &format!("web-{i}"), &["a"]);
        in_a.push(add(&mut alloc, &input, &chain, 1).expect("add")[0]);
    }
    add(&mut alloc, &input("cb", "web-b", &["b"]), &chain, 1).expect("b");
    let holdings =
        |alloc: &Allocator, pool: &str| alloc.holdings_by_pool().remove(pool).unwrap_or_default();
    let a = holdings(&alloc, "a");
    assert_eq!((a.held, a.orphaned.len()), (6, 0));

    // Pool a shrinks to the addresses of the first two records, and pool b
    // goes away: the rest are held still, and named as orphaned.
    let kept: Vec<String> = in_a[..2].iter().map(ToString::to_string).collect();
    let kept: Vec<&str> = kept.iter().map(String::as_str).collect();
    alloc
        .replace_pools(vec![pool("a", "10.43.0.0/28", &kept)])
        .expect("narrowed");
    let mut left: Vec<IpAddr> = in_a[2..].to_vec();
    left.sort();
    let all = alloc.holdings_by_pool();
    assert_eq!(all.keys().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(all["a"].held, 6);
    assert_eq!(all["a"].orphaned, left);
    assert_eq!(all["b"].held, 1);
    assert_eq!(all["b"].orphaned.len(), 1);
    assert_eq!(holdings(&alloc, "gone").held, 0);
    let mut orphaned: Vec<IpAddr> = alloc.orphaned().iter().map(|r| r.address).collect();
    orphaned.sort();
    assert_eq!(orphaned.len(), 5);
    alloc.check_invariants().expect("invariants");

    // Releasing one drops it from both counts.
    run(&mut alloc, |a| {
        a.plan_release("a", left[0]).expect("release")
    });
    assert_eq!(holdings(&alloc, "a").held, 5);
    assert_eq!(holdings(&alloc, "a").orphaned, left[1..].to_vec());
    alloc.check_invariants().expect("invariants");
}

#[test]
fn a_full_pool_says_how_many_of_its_addresses_are_retained() {
    let mut alloc = Allocator::new(vec![
        pool("a", "10.45.0.0/29", &["10.45.0.1-10.45.0.3"]),
        pool("b", "10.46.0.0/29", &["10.46.0.1"]),
    ])
    .expect("pools");
    let chain = NativeChain::sticky();
    // Two StatefulSet pods of pool a are deleted: retained for their
    // identities. One more pod holds the third address; b is full too.
    for (c, ordinal) in [("c0", 0), ("c1", 1)] {
        add(&mut alloc, &sts_input(c, "db", ordinal, &["a"]), &chain, 1).expect("db");
        run(&mut alloc, |a| a.plan_del(&attachment(c), 2));
    }
    add(&mut alloc, &input("c2", "web", &["a"]), &chain, 2).expect("web");
    add(&mut alloc, &input("c3", "web-b", &["b"]), &chain, 2).expect("web-b");
    let retained = |pools: &[&str]| match alloc.plan_add(&input("c9", "web-9", pools), &chain, 3) {
        Err(AllocError::PoolExhausted { retained, .. }) => retained,
        other => panic!("expected exhaustion, got {other:?}"),
    };
    assert_eq!(retained(&["a"]), 2);
    assert_eq!(retained(&["b"]), 0);
    assert_eq!(retained(&["a", "b"]), 2);
    alloc.check_invariants().expect("invariants");
    // db-0 comes back: one fewer retained.
    add(&mut alloc, &sts_input("c4", "db", 0, &["a"]), &chain, 4).expect("db-0 again");
    let retained = match alloc.plan_add(&input("c9", "web-9", &["a"]), &chain, 5) {
        Err(AllocError::PoolExhausted { retained, .. }) => retained,
        other => panic!("expected exhaustion, got {other:?}"),
    };
    assert_eq!(retained, 1);
    alloc.check_invariants().expect("invariants");
}
