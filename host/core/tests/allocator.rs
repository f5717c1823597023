//! Focused allocator behaviour: idempotency, dual stack, requested
//! addresses, sticky re-binding, pool change, retention, reload, restore.

mod common;

use berth_core::chain::{ChainError, FailurePolicy};
use berth_core::{AllocError, Allocator, Mutation, NodeScope, RecordState};
use berth_policy_sdk::IpFamily;
use common::*;
use std::net::IpAddr;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

fn two_pools() -> Allocator {
    Allocator::new(vec![
        pool("v4", "10.6.0.0/16", &["10.6.168.101-10.6.168.110"]),
        pool("v6", "fd00::/120", &[]),
    ])
    .expect("pools")
}

#[test]
fn add_is_idempotent_and_del_too() {
    let mut alloc = two_pools();
    let chain = NativeChain::abstaining();
    let first = add(&mut alloc, &input("c1", "p", &["v4", "v6"]), &chain, 1).expect("add");
    assert_eq!(first, vec![ip("10.6.168.101"), ip("fd00::1")]);
    let again = alloc
        .plan_add(&input("c1", "p", &["v4", "v6"]), &chain, 2)
        .expect("again");
    assert!(again.mutations.is_empty());
    assert_eq!(
        again.result.iter().map(|a| a.address).collect::<Vec<_>>(),
        first
    );
    assert_eq!(again.result[0].prefix_len, 16);
    let del = alloc.plan_del(&attachment("c1"), 3);
    assert_eq!(del.len(), 2);
    apply(&mut alloc, &del);
    assert!(alloc.plan_del(&attachment("c1"), 4).is_empty());
    assert_eq!(alloc.records().count(), 0);
}

#[test]
fn dual_stack_is_all_or_nothing() {
    let mut alloc = Allocator::new(vec![
        pool("one", "10.0.0.0/24", &["10.0.0.5"]),
        pool("v6", "fd00::/120", &[]),
    ])
    .expect("pools");
    let chain = NativeChain::abstaining();
    add(&mut alloc, &input("c1", "p1", &["one", "v6"]), &chain, 1).expect("first fits");
    let err = alloc
        .plan_add(&input("c2", "p2", &["v6", "one"]), &chain, 1)
        .expect_err("v4 exhausted");
    assert!(
        matches!(
            err,
            AllocError::PoolExhausted {
                family: IpFamily::V4,
                ..
            }
        ),
        "{err}"
    );
    let rejecting = NativeChain::new(vec![StepSpec::RejectFamily(IpFamily::V6)]);
    run(&mut alloc, |a| a.plan_del(&attachment("c1"), 2));
    let err = alloc
        .plan_add(&input("c3", "p3", &["one", "v6"]), &rejecting, 3)
        .expect_err("v6 rejected");
    assert!(
        matches!(err, AllocError::Chain(ChainError::Rejected { .. })),
        "{err}"
    );
    assert_eq!(alloc.records().count(), 0, "nothing planned, nothing held");
}

#[test]
fn requested_addresses() {
    let mut alloc = two_pools();
    let chain = NativeChain::abstaining();
    let mut want = input("c1", "p1", &["v4"]);
    want.requested = vec![ip("10.6.168.107")];
    assert_eq!(
        add(&mut alloc, &want, &chain, 1).expect("free"),
        vec![ip("10.6.168.107")]
    );
    want.attachment = attachment("c2");
    let err = alloc.plan_add(&want, &chain, 1).expect_err("taken");
    assert!(
        matches!(err, AllocError::AddressUnavailable { .. }),
        "{err}"
    );
    want.requested = vec![ip("10.6.0.7")];
    let err = alloc.plan_add(&want, &chain, 1).expect_err("outside");
    assert!(
        matches!(err, AllocError::AddressUnavailable { .. }),
        "{err}"
    );
    // Text that is no address cannot reach the allocator: the request
    // carries typed addresses, refused at decode (berth_proto).
    want.requested = vec![ip("10.6.168.102"), ip("10.6.168.103")];
    let err = alloc.plan_add(&want, &chain, 1).expect_err("two v4");
    assert!(matches!(err, AllocError::InvalidRequest { .. }), "{err}");
    let unknown = input("c3", "p", &["nope"]);
    let err = alloc.plan_add(&unknown, &chain, 1).expect_err("pool");
    assert!(matches!(err, AllocError::UnknownPool { .. }), "{err}");
    let err = alloc
        .plan_add(&input("c3", "p", &[]), &chain, 1)
        .expect_err("no default");
    assert!(matches!(err, AllocError::NoDefaultPool), "{err}");
}

#[test]
fn statefulset_pod_keeps_its_address_across_delete_and_restart() {
    let mut alloc = two_pools();
    let chain = NativeChain::sticky();
    let a0 = add(&mut alloc, &sts_input("c1", "db", 0, &["v4"]), &chain, 1).expect("add");
    let a1 = add(&mut alloc, &sts_input("c2", "db", 1, &["v4"]), &chain, 1).expect("add");
    // Delete and re-create: the address is retained, then given back.
    run(&mut alloc, |a| a.plan_del(&attachment("c1"), 2));
    let rec = alloc.record(a0[0]).expect("retained");
    assert!(matches!(
        rec.state,
        RecordState::Retained {
            expires_at_unix_secs: None,
            ..
        }
    ));
    let stateless = add(&mut alloc, &input("c3", "web", &["v4"]), &chain, 3).expect("other pod");
    assert_ne!(stateless, a0, "a retained address is not free");
    assert_eq!(
        add(&mut alloc, &sts_input("c4", "db", 0, &["v4"]), &chain, 4).expect("re-add"),
        a0
    );
    // Container restart without DEL: the address moves to the new container.
    assert_eq!(
        add(&mut alloc, &sts_input("c5", "db", 1, &["v4"]), &chain, 5).expect("restart"),
        a1
    );
    assert!(alloc.records_of_attachment(&attachment("c2")).is_empty());
    assert!(
        alloc.plan_del(&attachment("c2"), 6).is_empty(),
        "late DEL of the old container is a no-op"
    );
}

#[test]
fn pool_change_releases_the_old_address() {
    let mut alloc = Allocator::new(vec![
        pool("old", "10.1.0.0/24", &[]),
        pool("new", "10.2.0.0/24", &[]),
    ])
    .expect("pools");
    let chain = NativeChain::sticky();
    let before = add(&mut alloc, &sts_input("c1", "db", 0, &["old"]), &chain, 1).expect("add");
    run(&mut alloc, |a| a.plan_del(&attachment("c1"), 2));
    let plan = alloc
        .plan_add(&sts_input("c2", "db", 0, &["new"]), &chain, 3)
        .expect("moved");
    assert!(plan.mutations.contains(&Mutation::Remove {
        pool: "old".into(),
        address: before[0]
    }));
    apply(&mut alloc, &plan.mutations);
    assert_eq!(alloc.records_of_identity("default/db/0").len(), 1);
    assert!(alloc.record(before[0]).is_none());
}

#[test]
fn retention_expires_and_retirement_releases() {
    let mut alloc = two_pools();
    let chain = NativeChain::new(vec![StepSpec::Sticky { grace: 30 }]);
    let a0 = add(&mut alloc, &sts_input("c1", "db", 0, &["v4"]), &chain, 100).expect("add");
    let a1 = add(&mut alloc, &sts_input("c2", "db", 1, &["v4"]), &chain, 100).expect("add");
    run(&mut alloc, |a| a.plan_del(&attachment("c1"), 110));
    // Retiring: the retained one now expires after the grace; the attached
    // one will be retained for the grace after its DEL.
    let retire = [
        alloc.plan_retire_identity("default/db/0", 120),
        alloc.plan_retire_identity("default/db/1", 120),
    ]
    .concat();
    apply(&mut alloc, &retire);
    assert!(alloc.plan_expire(&NodeScope::AllNodes, 149).is_empty());
    run(&mut alloc, |a| a.plan_expire(&NodeScope::AllNodes, 150));
    assert!(alloc.record(a0[0]).is_none());
    run(&mut alloc, |a| a.plan_del(&attachment("c2"), 200));
    assert!(matches!(
        alloc.record(a1[0]).expect("held").state,
        RecordState::Retained {
            expires_at_unix_secs: Some(230),
            ..
        }
    ));
    let err = alloc.plan_release("v6", a1[0]).expect_err("wrong pool");
    assert!(matches!(err, AllocError::NotFound { .. }), "{err}");
    run(&mut alloc, |a| {
        a.plan_release("v4", a1[0]).expect("release")
    });
    assert_eq!(alloc.records().count(), 0);
}

#[test]
fn gc_releases_only_invalid_attachments_of_the_network() {
    let mut alloc = two_pools();
    let chain = NativeChain::abstaining();
    for c in ["c1", "c2", "c3"] {
        add(&mut alloc, &input(c, c, &["v4"]), &chain, 1).expect("add");
    }
    let mut other = input("c4", "c4", &["v4"]);
    other.network = "other".into();
    add(&mut alloc, &other, &chain, 1).expect("add");
    run(&mut alloc, |a| {
        a.plan_gc("net", &[attachment("c2")], &NodeScope::AllNodes, 5)
    });
    let mut left: Vec<String> = alloc
        .records()
        .filter_map(|r| r.attachment.as_ref().map(|a| a.container_id.clone()))
        .collect();
    left.sort();
    assert_eq!(left, vec!["c2".to_string(), "c4".to_string()]);
}

#[test]
fn failing_policy_follows_its_failure_policy() {
    let mut alloc = two_pools();
    let fail = |policy| {
        NativeChain::new(vec![
            StepSpec::Failing {
                every: 1,
                in_evaluate: true,
                policy,
            },
            StepSpec::Sticky { grace: 0 },
        ])
    };
    let err = alloc
        .plan_add(&input("c1", "p", &["v4"]), &fail(FailurePolicy::Fail), 1)
        .expect_err("fails");
    assert!(
        matches!(err, AllocError::Chain(ChainError::Failed { .. })),
        "{err}"
    );
    add(
        &mut alloc,
        &input("c1", "p", &["v4"]),
        &fail(FailurePolicy::Ignore),
        1,
    )
    .expect("ignored");
}

#[test]
fn reload_keeps_orphans_and_restore_refuses_conflicts() {
    let mut alloc = two_pools();
    let chain = NativeChain::abstaining();
    let a = add(&mut alloc, &input("c1", "p", &["v4", "v6"]), &chain, 1).expect("add");
    let orphans = alloc
        .replace_pools(vec![pool("v6", "fd00::/120", &[])])
        .expect("reload");
    assert_eq!(orphans, vec![format!("v4/{}", a[0])]);
    assert_eq!(alloc.records().count(), 2);
    let err = alloc
        .plan_add(&input("c1", "p", &["v6"]), &chain, 2)
        .expect_err("orphaned");
    assert!(matches!(err, AllocError::Orphaned { .. }), "{err}");
    run(&mut alloc, |a| a.plan_del(&attachment("c1"), 3));
    assert_eq!(
        alloc.records().count(),
        0,
        "orphans are released like any record"
    );

    let mut records: Vec<_> = {
        let mut fresh = two_pools();
        add(&mut fresh, &input("c1", "p", &["v4"]), &chain, 1).expect("add");
        fresh.records().collect()
    };
    let mut restored = two_pools();
    assert_eq!(
        restored.restore(records.clone()).expect("consistent"),
        Default::default()
    );
    assert_eq!(restored.records().count(), 1);

    // Two records of one address cannot both be true: refused.
    let mut twice = records.clone();
    twice.push(records[0].clone());
    let err = two_pools()
        .restore(twice)
        .expect_err("one address held twice");
    assert!(err.to_string().contains("already held"), "{err}");

    // An attachment with two v4 addresses (an ADD whose rollback failed):
    // repaired, one kept, the other held until released.
    let mut dup = records[0].clone();
    dup.address = ip("10.6.168.109");
    records.push(dup);
    let mut repaired = two_pools();
    let restored = repaired.restore(records).expect("repaired");
    assert_eq!(restored.superseded.len(), 1, "{restored:?}");
    assert_eq!(repaired.records().count(), 2);
    repaired.check_invariants().expect("invariants");
}
