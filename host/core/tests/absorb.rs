//! `Allocator::absorb`: a node that takes in another node's writes one
//! change at a time (the Kubernetes watch feed) ends where a full restore
//! from the store would, never panics on changes it did not plan, and
//! settles a slot clash exactly as a restore does.

mod common;

use berth_core::{Allocator, Mutation};
use common::*;

fn pools() -> Allocator {
    Allocator::new(vec![
        pool("old", "10.41.0.0/24", &[]),
        pool("new", "10.42.0.0/24", &[]),
    ])
    .expect("pools")
}

fn sorted(alloc: &Allocator) -> Vec<berth_core::AddressRecord> {
    let mut records: Vec<_> = alloc.records().collect();
    records.sort_by_key(|r| r.address);
    records
}

#[test]
fn absorbing_another_nodes_writes_matches_a_restore() {
    let chain = NativeChain::sticky();
    let (mut writer, mut follower) = (pools(), pools());
    let mut follow = |writer: &mut Allocator, mutations: Vec<Mutation>| {
        writer.apply(&mutations);
        // Delivered twice, as a watch echo and a re-read can: no change.
        follower.absorb(mutations.clone()).expect("absorb");
        let again = follower.absorb(mutations).expect("absorb again");
        assert_eq!(again.changed, 0, "{again:?}");
        follower.check_invariants().expect("invariants");
        assert_eq!(sorted(&follower), sorted(writer));
    };
    for i in 0..6u32 {
        let mut sts = sts_input(&format!("s{i}"), "db", i, &["old"]);
        sts.node = "node-b".into();
        let plan = writer.plan_add(&sts, &chain, 10).expect("sts");
        follow(&mut writer, plan.mutations);
        let web = input(&format!("w{i}"), &format!("web-{i}"), &["new"]);
        let plan = writer.plan_add(&web, &chain, 10).expect("web");
        follow(&mut writer, plan.mutations);
    }
    // Deletes (the sticky ones become retained: a Put of a new version),
    // and a re-bind of a retained address by a new container.
    for i in 0..3 {
        let m = writer.plan_del(&attachment(&format!("s{i}")), 20);
        follow(&mut writer, m);
        let m = writer.plan_del(&attachment(&format!("w{i}")), 20);
        follow(&mut writer, m);
    }
    let mut back = sts_input("s0-again", "db", 0, &["old"]);
    back.node = "node-b".into();
    let plan = writer.plan_add(&back, &chain, 30).expect("re-bind");
    follow(&mut writer, plan.mutations);

    let mut restored = pools();
    restored.restore(sorted(&writer)).expect("restore");
    assert_eq!(sorted(&restored), sorted(&follower));
}

#[test]
fn removals_of_what_is_not_held_change_nothing() {
    let chain = NativeChain::sticky();
    let mut alloc = pools();
    add(&mut alloc, &input("c1", "web", &["new"]), &chain, 1).expect("add");
    let before = sorted(&alloc);
    let held = before[0].address;
    let absorbed = alloc
        .absorb(vec![
            // Another pool's name for the held address: not this record.
            Mutation::Remove {
                pool: "old".into(),
                address: held,
            },
            Mutation::Remove {
                pool: "new".into(),
                address: "10.42.0.200".parse().expect("ip"),
            },
        ])
        .expect("absorb");
    assert_eq!(absorbed.changed, 0);
    assert_eq!(sorted(&alloc), before);
    alloc.check_invariants().expect("invariants");
}

#[test]
fn a_slot_clash_is_settled_as_a_restore_settles_it() {
    // An identity moved from `old` to `new` by another node whose delete
    // of the old record never happened: the follower first holds the old
    // record, then hears of the new one (same identity slot).
    let chain = NativeChain::sticky();
    let mut writer = pools();
    let mut first = sts_input("c1", "db", 0, &["old"]);
    first.node = "node-b".into();
    add(&mut writer, &first, &chain, 10).expect("add");
    run(&mut writer, |a| a.plan_del(&attachment("c1"), 20));
    let old = sorted(&writer);
    let mut moved = sts_input("c2", "db", 0, &["new"]);
    moved.node = "node-b".into();
    let plan = writer.plan_add(&moved, &chain, 30).expect("move");
    let new: Vec<_> = plan
        .mutations
        .into_iter()
        .filter(|m| matches!(m, Mutation::Put(_)))
        .collect();

    let mut follower = pools();
    follower
        .absorb(old.iter().cloned().map(Mutation::Put).collect())
        .expect("old record");
    let absorbed = follower.absorb(new.clone()).expect("settled, not refused");
    assert!(absorbed.rebuilt, "{absorbed:?}");
    assert_eq!(absorbed.superseded.len(), 1, "{absorbed:?}");
    follower.check_invariants().expect("invariants");

    let mut restored = pools();
    let all: Vec<_> = old
        .into_iter()
        .chain(new.into_iter().filter_map(|m| match m {
            Mutation::Put(r) => Some(r),
            Mutation::Remove { .. } => None,
        }))
        .collect();
    let by_restore = restored.restore(all).expect("restore");
    assert_eq!(absorbed.superseded, by_restore.superseded);
    assert_eq!(sorted(&follower), sorted(&restored));
    assert_eq!(follower.superseded_count(), 1);
}
