//! `KubeStore` through the `Store` trait against the stand-in API server
//! and the real kube-rs client.
//!
//! Covered: create/replace/delete round trip and the writes each costs;
//! AlreadyExists and stale resourceVersions as `Conflict`; rollback of a
//! batch's creates; retries of injected 500s; undecodable objects named in
//! the error; the identity check. Not covered (the stand-in does not do
//! them): pagination (`limit` is ignored, so the `continue` loop runs one
//! page), RBAC, schema validation by the API server.
#![allow(clippy::unwrap_used)]

mod common;
use berth_core::record::Mutation;
use berth_core::store::{Store, StoreError};
use berth_kube::BerthAddress;
use berth_kube_standin::Fault;
use common::*;
use kube::api::{Api, PostParams};
use std::sync::{Arc, Barrier};

/// A node re-reads the store and applies what it read (load + loaded).
fn refresh(store: &berth_kube::KubeStore) -> Vec<berth_core::AddressRecord> {
    let records = store.load().unwrap();
    store.loaded();
    records
}

fn remove(pool: &str, addr: &str) -> Mutation {
    Mutation::Remove {
        pool: pool.to_owned(),
        address: addr.parse().unwrap(),
    }
}

#[test]
fn create_replace_delete_round_trip() {
    let c = Cluster::start();
    let store = c.store("node-1");
    assert!(refresh(&store).is_empty());

    let r = with_identity(record("p", "10.6.168.101", "c1"), "default/sts/0");
    store.apply(&[Mutation::Put(r.clone())]).unwrap();
    assert_eq!(refresh(&store), vec![r.clone()]);

    let kept = retained(r.clone());
    store.apply(&[Mutation::Put(kept.clone())]).unwrap();
    assert_eq!(refresh(&store), vec![kept]);

    store.apply(&[remove("p", "10.6.168.101")]).unwrap();
    assert!(refresh(&store).is_empty());

    let counts = c.server.counts();
    assert_eq!(counts.get("create", "berthaddresses"), 1);
    assert_eq!(counts.get("update", "berthaddresses"), 1);
    assert_eq!(counts.get("delete", "berthaddresses"), 1);
    assert_eq!(
        counts.writes("berthpools"),
        0,
        "no pool write on the ADD path"
    );
}

#[test]
fn two_nodes_racing_for_an_address_one_wins() {
    let c = Cluster::start();
    let stores = [c.store("node-a"), c.store("node-b")];
    for i in 0..20 {
        let addr = format!("10.6.0.{}", i + 1);
        let barrier = Arc::new(Barrier::new(2));
        let results: Vec<Result<(), StoreError>> = std::thread::scope(|s| {
            let handles: Vec<_> = stores
                .iter()
                .enumerate()
                .map(|(n, store)| {
                    let (barrier, addr) = (barrier.clone(), addr.clone());
                    s.spawn(move || {
                        let r = record("p", &addr, &format!("n{n}c{i}"));
                        barrier.wait();
                        store.apply(&[Mutation::Put(r)])
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "{addr}: {results:?}");
        let loss = results.iter().find_map(|r| r.clone().err()).unwrap();
        assert!(
            matches!(&loss, StoreError::Conflict { message } if message.contains(&addr)),
            "{loss:?}"
        );
    }
    assert_eq!(c.address_objects().len(), 20);
}

#[test]
fn stale_versions_conflict() {
    let c = Cluster::start();
    let (a, b) = (c.store("node-a"), c.store("node-b"));
    let r = with_identity(record("p", "10.6.0.9", "c1"), "default/sts/0");
    a.apply(&[Mutation::Put(r.clone())]).unwrap();
    refresh(&b);
    a.apply(&[Mutation::Put(retained(r.clone()))]).unwrap();

    // B read the attached version; its re-bind and its remove both lose.
    let mut rebind = r.clone();
    rebind.attachment.as_mut().unwrap().container_id = "c2".to_owned();
    let e = b.apply(&[Mutation::Put(rebind.clone())]).unwrap_err();
    assert!(matches!(e, StoreError::Conflict { .. }), "{e:?}");
    // After a refresh B writes over the version it saw.
    refresh(&b);
    b.apply(&[Mutation::Put(rebind.clone())]).unwrap();
    assert_eq!(refresh(&b), vec![rebind]);
    // A never saw B's version.
    let e = a.apply(&[remove("p", "10.6.0.9")]).unwrap_err();
    assert!(matches!(e, StoreError::Conflict { .. }), "{e:?}");
}

#[test]
fn a_failed_create_rolls_back_the_batch() {
    let c = Cluster::start();
    let (a, b) = (c.store("node-a"), c.store("node-b"));
    a.apply(&[Mutation::Put(record("p", "10.6.0.2", "a1"))])
        .unwrap();
    // Dual stack on B: the v6 create succeeds, the v4 one is taken.
    let batch = [
        Mutation::Put(record("p6", "fd00::5", "b1")),
        Mutation::Put(record("p", "10.6.0.2", "b1")),
    ];
    let e = b.apply(&batch).unwrap_err();
    assert!(matches!(e, StoreError::Conflict { .. }), "{e:?}");
    let held: Vec<_> = refresh(&b).into_iter().map(|r| r.key()).collect();
    assert_eq!(
        held,
        vec!["p/10.6.0.2".to_owned()],
        "the v6 create was rolled back"
    );
    assert_eq!(b.stats().rollbacks, 1);
}

#[test]
fn removes_of_unseen_or_vanished_objects() {
    let c = Cluster::start();
    let (a, b) = (c.store("node-a"), c.store("node-b"));
    let e = a.apply(&[remove("p", "10.6.0.3")]).unwrap_err();
    assert!(matches!(e, StoreError::Conflict { .. }), "{e:?}");
    a.apply(&[Mutation::Put(record("p", "10.6.0.3", "a1"))])
        .unwrap();
    refresh(&b);
    a.apply(&[remove("p", "10.6.0.3")]).unwrap();
    // Already gone (say, GC on another node): the remove's goal holds.
    b.apply(&[remove("p", "10.6.0.3")]).unwrap();
}

#[test]
fn transient_failures_are_retried_then_reported() {
    let c = Cluster::start();
    let store = c.store("node-1");
    c.server
        .fail_next_writes("berthaddresses", 2, Fault::InternalError);
    store
        .apply(&[Mutation::Put(record("p", "10.6.0.4", "c1"))])
        .unwrap();
    assert_eq!(refresh(&store).len(), 1);

    c.server
        .fail_next_writes("berthaddresses", 100, Fault::InternalError);
    let e = store
        .apply(&[Mutation::Put(record("p", "10.6.0.5", "c2"))])
        .unwrap_err();
    assert!(matches!(e, StoreError::Backend { .. }), "{e:?}");
    c.server.clear_faults();
}

#[test]
fn undecodable_objects_fail_the_load_by_name() {
    let c = Cluster::start();
    let store = c.store("node-1");
    store
        .apply(&[Mutation::Put(record("p", "10.6.0.6", "c1"))])
        .unwrap();
    // An object whose name does not match its content (hand-edited).
    let mut obj = berth_kube::convert::berth_address(&record("p", "10.6.0.7", "c2"), "x");
    obj.metadata.name = Some("p.10-6-0-8".to_owned());
    let api: Api<BerthAddress> = Api::all(c.client());
    c.rt.block_on(api.create(&PostParams::default(), &obj))
        .unwrap();
    let e = store.load().unwrap_err();
    match e {
        StoreError::Decode { key, message } => {
            assert_eq!(key, "berthaddresses/p.10-6-0-8");
            assert!(message.contains("p.10-6-0-7"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

/// The identity both nodes' pods claim.
const IDENTITY: &str = "default/sts/0";

/// node-a's and node-b's stores, both refreshed before node-a binds
/// [`IDENTITY`] to 10.6.0.10: node-b has not seen that record.
fn identity_bound_on_a(c: &Cluster) -> (berth_kube::KubeStore, berth_kube::KubeStore) {
    let (a, b) = (c.store("node-a"), c.store("node-b"));
    refresh(&b);
    a.apply(&[Mutation::Put(with_identity(
        record("p", "10.6.0.10", "a1"),
        IDENTITY,
    ))])
    .unwrap();
    (a, b)
}

/// `store` binding [`IDENTITY`] to a second address is a conflict naming it.
fn assert_second_binding_conflicts(store: &berth_kube::KubeStore) {
    let e = store
        .apply(&[Mutation::Put(with_identity(
            record("p", "10.6.0.11", "b1"),
            IDENTITY,
        ))])
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Conflict { message } if message.contains(IDENTITY)),
        "{e:?}"
    );
}

#[test]
fn an_identity_held_elsewhere_is_a_conflict() {
    let c = Cluster::start();
    let (_a, b) = identity_bound_on_a(&c);
    // B has not seen A's record and would bind the identity a second address.
    assert_second_binding_conflicts(&b);
    assert_eq!(c.address_objects().len(), 1);
}

#[test]
fn a_load_not_yet_applied_keeps_the_identity_guard_on() {
    let c = Cluster::start();
    let (_a, b) = identity_bound_on_a(&c);
    // B lists A's record but fails to apply what it read (no `loaded`):
    // its allocator never saw the record, so the guard must stay on.
    assert_eq!(b.load().unwrap().len(), 1);
    assert_second_binding_conflicts(&b);
    // Once applied, the same record counts as seen.
    b.loaded();
    assert_eq!(c.address_objects().len(), 1);
}
