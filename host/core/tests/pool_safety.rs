//! Issue 10: pools an operator can change under held addresses without
//! losing or duplicating any — `disable: true` (item 4).

mod common;

use berth_core::{AllocError, Allocator, Pool};
use berth_proto::ErrorKind;
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
        assert_eq!(err.kind(), ErrorKind::PoolExhausted);
        assert!(err.to_string().contains("disabled"), "{err}");
    }
    let mut asked = input("c5", "web-3", &["a"]);
    asked.requested = vec!["10.41.0.9".into()];
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
