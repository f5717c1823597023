//! Pool namespace and node selectors: a pool hands out addresses only to
//! pods its selectors admit, and a StatefulSet pod that moves to another
//! node keeps its address unless the new node is excluded.

mod common;

use berth_core::placement::{Labels, Placement};
use berth_core::{AddInput, AllocError, Allocator, Pool};
use common::*;
use std::net::IpAddr;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn zoned(name: &str, subnet: &str, zone: &str) -> Pool {
    let mut s = spec(name, subnet, &[]);
    s.node_selector = labels(&[("zone", zone)]);
    Pool::from_spec(&s).expect("valid pool")
}

fn default_pool(name: &str, subnet: &str, namespace: &[(&str, &str)]) -> Pool {
    let mut s = spec(name, subnet, &[]);
    s.default = true;
    s.namespace_selector = labels(namespace);
    Pool::from_spec(&s).expect("valid pool")
}

fn on(mut add: AddInput, node: &str, zone: &str, namespace: &[(&str, &str)]) -> AddInput {
    add.node = node.into();
    add.placement = Some(Placement {
        namespace: add.pod.namespace.clone(),
        namespace_labels: labels(namespace),
        node: node.into(),
        node_labels: labels(&[("zone", zone)]),
    });
    add
}

fn pool_of(alloc: &Allocator, address: IpAddr) -> String {
    alloc.record(address).expect("held").pool.clone()
}

#[test]
fn a_moved_statefulset_pod_keeps_its_address_unless_the_new_node_is_excluded() {
    let mut alloc = Allocator::new(vec![
        zoned("zone-a", "10.31.0.0/24", "a"),
        zoned("zone-b", "10.32.0.0/24", "b"),
    ])
    .expect("pools");
    let chain = NativeChain::sticky();
    let both = ["zone-a", "zone-b"];
    let first = add(
        &mut alloc,
        &on(sts_input("c1", "db", 0, &both), "node-1", "a", &[]),
        &chain,
        1,
    )
    .expect("add on node-1");
    assert_eq!(pool_of(&alloc, first[0]), "zone-a");

    // Re-created on another node of the same zone: same address.
    run(&mut alloc, |a| a.plan_del(&attachment("c1"), 2));
    let moved = add(
        &mut alloc,
        &on(sts_input("c2", "db", 0, &both), "node-2", "a", &[]),
        &chain,
        3,
    )
    .expect("add on node-2");
    assert_eq!(moved, first, "the binding follows the pod across nodes");

    // Re-created in zone b: zone-a no longer admits it, so it moves.
    run(&mut alloc, |a| a.plan_del(&attachment("c2"), 4));
    let rezoned = add(
        &mut alloc,
        &on(sts_input("c3", "db", 0, &both), "node-3", "b", &[]),
        &chain,
        5,
    )
    .expect("add on node-3");
    assert_eq!(pool_of(&alloc, rezoned[0]), "zone-b");
    assert!(alloc.record(first[0]).is_none(), "the old address is freed");
    assert_eq!(alloc.records_of_identity("default/db/0").len(), 1);
}

#[test]
fn a_pod_no_named_pool_admits_gets_a_clear_error_and_changes_nothing() {
    let mut alloc = Allocator::new(vec![zoned("zone-a", "10.31.0.0/24", "a")]).expect("pools");
    let chain = NativeChain::sticky();
    let held = add(
        &mut alloc,
        &on(sts_input("c1", "db", 0, &["zone-a"]), "node-1", "a", &[]),
        &chain,
        1,
    )
    .expect("add");
    run(&mut alloc, |a| a.plan_del(&attachment("c1"), 2));
    let before: Vec<_> = alloc.records().collect();
    let err = alloc
        .plan_add(
            &on(sts_input("c2", "db", 0, &["zone-a"]), "node-9", "b", &[]),
            &chain,
            3,
        )
        .expect_err("zone-a excludes node-9");
    assert!(matches!(err, AllocError::NotAdmitted { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("nodeSelector zone=a does not match node \"node-9\" (it has zone=b)"),
        "{message}"
    );
    let after: Vec<_> = alloc.records().collect();
    assert_eq!(before, after, "a refused ADD changes nothing");
    assert!(
        alloc.record(held[0]).is_some(),
        "the retained binding stays"
    );
}

#[test]
fn default_pools_are_filtered_by_namespace_and_none_means_single_host() {
    let alloc_pools = || {
        Allocator::new(vec![
            default_pool("db-only", "10.41.0.0/24", &[("team", "db")]),
            default_pool("anyone", "10.42.0.0/24", &[]),
        ])
        .expect("pools")
    };
    let chain = NativeChain::abstaining();
    let mut alloc = alloc_pools();
    let db = add(
        &mut alloc,
        &on(input("c1", "p1", &[]), "n", "a", &[("team", "db")]),
        &chain,
        1,
    )
    .expect("db pod");
    assert_eq!(pool_of(&alloc, db[0]), "db-only");
    let web = add(
        &mut alloc,
        &on(input("c2", "p2", &[]), "n", "a", &[("team", "web")]),
        &chain,
        1,
    )
    .expect("web pod");
    assert_eq!(pool_of(&alloc, web[0]), "anyone");

    // Without a placement (single host) selectors are not evaluated.
    let plain = add(&mut alloc, &input("c3", "p3", &[]), &chain, 1).expect("plain");
    assert_eq!(pool_of(&alloc, plain[0]), "db-only");

    // Every default pool excludes the pod: refused, naming each reason.
    let mut only_db = Allocator::new(vec![default_pool(
        "db-only",
        "10.41.0.0/24",
        &[("team", "db")],
    )])
    .expect("pools");
    let err = add(
        &mut only_db,
        &on(input("c4", "p4", &[]), "n", "a", &[]),
        &chain,
        1,
    )
    .expect_err("excluded");
    assert!(
        err.to_string()
            .contains("pool \"db-only\": namespaceSelector team=db"),
        "{err}"
    );
}
