//! Kubernetes mode: every node's allocator holds every node's records, so
//! a node's own CNI GC and expiry must stay on its own records.

mod common;

use berth_core::{Allocator, NodeScope, RecordState};
use common::*;
use std::collections::BTreeSet;

fn shared() -> Allocator {
    Allocator::new(vec![pool("shared", "10.30.0.0/24", &[])]).expect("pools")
}

fn on(node: &str, mut input: berth_core::AddInput) -> berth_core::AddInput {
    input.node = node.into();
    input
}

#[test]
fn gc_of_one_node_leaves_other_nodes_attachments() {
    let mut alloc = shared();
    let chain = NativeChain::abstaining();
    let pa = add(
        &mut alloc,
        &on("node-a", input("ca", "pa", &["shared"])),
        &chain,
        1,
    )
    .expect("add pa");
    let pb = add(
        &mut alloc,
        &on("node-b", input("cb", "pb", &["shared"])),
        &chain,
        1,
    )
    .expect("add pb");
    let stale = add(
        &mut alloc,
        &on("node-b", input("cs", "ps", &["shared"])),
        &chain,
        1,
    )
    .expect("add stale");

    // What containerd on node-b sends: only node-b's live attachment.
    let plan = alloc.plan_gc("net", &[attachment("cb")], &NodeScope::only("node-b"), 5);
    assert_eq!(plan.len(), 1, "{plan:?}");
    apply(&mut alloc, &plan);
    assert!(
        alloc.record(pa[0]).is_some(),
        "node-a's live address released"
    );
    assert!(
        alloc.record(pb[0]).is_some(),
        "node-b's live address released"
    );
    assert!(
        alloc.record(stale[0]).is_none(),
        "node-b's stale address kept"
    );

    // Single host: one node, every record its own (unchanged behaviour).
    run(&mut alloc, |a| {
        a.plan_gc("net", &[], &NodeScope::AllNodes, 6)
    });
    assert_eq!(alloc.records().count(), 0);
}

#[test]
fn each_retained_record_expires_by_its_own_node_once() {
    let mut alloc = shared();
    let chain = NativeChain::new(vec![StepSpec::Sticky { grace: 30 }]);
    let a = add(
        &mut alloc,
        &on("node-a", sts_input("ca", "db", 0, &["shared"])),
        &chain,
        1,
    )
    .expect("add db-0");
    let b = add(
        &mut alloc,
        &on("node-b", sts_input("cb", "db", 1, &["shared"])),
        &chain,
        1,
    )
    .expect("add db-1");
    run(&mut alloc, |al| al.plan_del(&attachment("ca"), 10));
    run(&mut alloc, |al| al.plan_del(&attachment("cb"), 10));
    run(&mut alloc, |al| {
        [
            al.plan_retire_identity("default/db/0", 20),
            al.plan_retire_identity("default/db/1", 20),
        ]
        .concat()
    });
    for address in [a[0], b[0]] {
        assert!(matches!(
            alloc.record(address).expect("retained").state,
            RecordState::Retained {
                expires_at_unix_secs: Some(50),
                ..
            }
        ));
    }

    let by_a = alloc.plan_expire(&NodeScope::only("node-a"), 60);
    let by_b = alloc.plan_expire(&NodeScope::only("node-b"), 60);
    assert_eq!(by_a.len(), 1, "{by_a:?}");
    assert_eq!(by_b.len(), 1, "{by_b:?}");
    assert_ne!(by_a, by_b, "one record expired by two nodes");
    assert!(alloc.plan_expire(&NodeScope::only("node-c"), 60).is_empty());

    // A node that adopted a dead node's records expires those as well.
    let adopted = NodeScope::Nodes(BTreeSet::from(["node-a".into(), "node-b".into()]));
    assert_eq!(alloc.plan_expire(&adopted, 60).len(), 2);
    apply(&mut alloc, &by_a);
    apply(&mut alloc, &by_b);
    assert_eq!(alloc.records().count(), 0);
}
