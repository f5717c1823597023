//! Restore repairs what a partial write of a non-transactional store
//! leaves (two records in one identity or attachment slot) the same way on
//! every node, and refuses what no crash produces.

mod common;

use berth_core::{Allocator, Mutation, NodeScope, RecordState};
use common::*;

fn pools() -> Allocator {
    Allocator::new(vec![
        pool("old", "10.41.0.0/24", &[]),
        pool("new", "10.42.0.0/24", &[]),
    ])
    .expect("pools")
}

/// The records of a StatefulSet pod moved from pool `old` to `new` whose
/// old record's delete never happened (crash between the two writes).
fn half_moved() -> Vec<berth_core::AddressRecord> {
    let mut alloc = pools();
    let chain = NativeChain::sticky();
    let mut first = sts_input("c1", "db", 0, &["old"]);
    first.node = "node-a".into();
    add(&mut alloc, &first, &chain, 10).expect("add");
    run(&mut alloc, |a| a.plan_del(&attachment("c1"), 20));
    let old: Vec<_> = alloc.records().collect();
    let mut moved = sts_input("c2", "db", 0, &["new"]);
    moved.node = "node-a".into();
    let plan = alloc.plan_add(&moved, &chain, 30).expect("move");
    let puts: Vec<_> = plan
        .mutations
        .iter()
        .filter_map(|m| match m {
            Mutation::Put(r) => Some(r.clone()),
            Mutation::Remove { .. } => None,
        })
        .collect();
    assert_eq!(puts.len(), 1, "{:?}", plan.mutations);
    [old, puts].concat()
}

#[test]
fn a_half_done_move_keeps_the_attached_record_and_releases_the_old_one() {
    let records = half_moved();
    let mut alloc = pools();
    let restored = alloc
        .restore(records.clone())
        .expect("repaired, not refused");
    assert_eq!(restored.superseded.len(), 1, "{restored:?}");
    let s = &restored.superseded[0];
    assert!(s.record.starts_with("old/"), "{s:?}");
    assert!(s.kept.starts_with("new/"), "{s:?}");
    alloc.check_invariants().expect("invariants");

    // The identity has one address; the old one is still held (its object
    // exists) so nobody else can take it.
    let held = alloc.records_of_identity("default/db/0");
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].pool, "new");
    assert_eq!(held[0].state, RecordState::Attached);
    let old_address = records
        .iter()
        .find(|r| r.pool == "old")
        .expect("old")
        .address;
    assert!(alloc.record(old_address).is_some());
    assert!(alloc.plan_del(&attachment("c1"), 40).is_empty());

    // Only its node (or the one that adopted it) releases it.
    assert!(alloc
        .plan_release_superseded(&NodeScope::only("node-b"))
        .is_empty());
    let release = alloc.plan_release_superseded(&NodeScope::only("node-a"));
    assert_eq!(
        release,
        vec![Mutation::Remove {
            pool: "old".into(),
            address: old_address
        }]
    );
    apply(&mut alloc, &release);
    assert_eq!(alloc.superseded_count(), 0);
    assert_eq!(alloc.records().count(), 1);
}

#[test]
fn every_node_repairs_the_same_way_whatever_the_listing_order() {
    let records = half_moved();
    let mut reversed = records.clone();
    reversed.reverse();
    let mut a = pools();
    let mut b = pools();
    assert_eq!(
        a.restore(records).expect("a"),
        b.restore(reversed).expect("b")
    );
}

#[test]
fn two_retained_records_keep_the_newest() {
    let mut records = half_moved();
    for r in &mut records {
        r.attachment = None;
        r.state = RecordState::Retained {
            since_unix_secs: 40,
            expires_at_unix_secs: None,
        };
    }
    let mut alloc = pools();
    let restored = alloc.restore(records).expect("repaired");
    assert_eq!(restored.superseded.len(), 1);
    assert_eq!(alloc.records_of_identity("default/db/0")[0].pool, "new");
}

#[test]
fn superseded_records_survive_a_pool_reload_and_a_put_of_their_address() {
    let mut alloc = pools();
    alloc.restore(half_moved()).expect("repaired");
    let pools_again = alloc.pools().to_vec();
    alloc.replace_pools(pools_again).expect("reload");
    assert_eq!(alloc.superseded_count(), 1);
    alloc.check_invariants().expect("invariants");
    // An operator's release of the address is a plain remove.
    let old = alloc
        .records()
        .find(|r| r.pool == "old")
        .expect("old")
        .address;
    run(&mut alloc, |a| a.plan_release("old", old).expect("release"));
    assert_eq!(alloc.superseded_count(), 0);
    assert!(alloc.record(old).is_none());
}
