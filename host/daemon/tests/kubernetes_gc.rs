//! Kubernetes mode: garbage collection and two nodes allocating at once.

mod cluster;

use cluster::{eventually, sticky, Berthd, Cluster};
use serde_json::json;
use std::collections::BTreeSet;

fn pool_annotation() -> serde_json::Value {
    json!({ "berth.io/ippool": "test-ippool" })
}

#[test]
fn lost_dels_deleted_statefulsets_and_restarts() {
    let cluster = Cluster::start();
    cluster.node("node-a");
    cluster.pool("test-ippool", "10.6.0.0/16", &["10.6.168.101-10.6.168.110"]);
    let uid = cluster.stateful_set("db", 2);
    let owner = Some(("StatefulSet", "db", uid.as_str()));
    let mut berthd = Berthd::start(&cluster, "node-a", sticky("0s"));

    // A stateless pod deleted without a DEL: GC frees its address.
    let web = cluster.pod("web-1", "node-a", None, pool_annotation());
    let w = berthd.add(&web, "w1").expect("add web");
    cluster.delete_pod("web-1");
    eventually("leaked address of web-1 collected", 30, || {
        !cluster.holds(&w)
    });

    // A StatefulSet pod deleted without DEL: its binding is kept (retained).
    let db0 = cluster.pod("db-0", "node-a", owner, pool_annotation());
    let d0 = berthd.add(&db0, "d0").expect("add db-0");
    cluster.delete_pod("db-0");
    eventually("db-0 retained, not freed", 30, || {
        cluster
            .addresses()
            .iter()
            .any(|a| a["spec"]["address"] == d0.as_str() && a["spec"]["state"] == "Retained")
    });

    // Restart between the delete and the re-creation: the binding survives.
    berthd.restart();
    let db0 = cluster.pod("db-0", "node-a", owner, pool_annotation());
    assert_eq!(berthd.add(&db0, "d0b").expect("re-add db-0"), d0);

    // The StatefulSet is deleted (and its pods): every ordinal is retired
    // and, with no hold, freed.
    cluster.delete_stateful_set("db");
    cluster.delete_pod("db-0");
    eventually("deleted StatefulSet's address freed", 40, || {
        !cluster.holds(&d0)
    });
    assert!(cluster.addresses().is_empty(), "{:?}", cluster.addresses());
}

#[test]
fn two_nodes_allocating_from_one_pool_never_share_an_address() {
    let cluster = Cluster::start();
    cluster.node("node-a");
    cluster.node("node-b");
    cluster.pool("shared", "10.20.0.0/24", &[]);
    let a = Berthd::start(&cluster, "node-a", sticky("0s"));
    let b = Berthd::start(&cluster, "node-b", sticky("0s"));
    let per_node = 30;
    let pods: Vec<_> = (0..per_node * 2)
        .map(|i| {
            let node = if i % 2 == 0 { "node-a" } else { "node-b" };
            cluster.pod(
                &format!("p-{i}"),
                node,
                None,
                json!({ "berth.io/ippool": "shared" }),
            )
        })
        .collect();
    let addresses: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = pods
            .iter()
            .enumerate()
            .map(|(i, pod)| {
                let daemon = if i % 2 == 0 { &a } else { &b };
                s.spawn(move || daemon.add(pod, &format!("c-{i}")))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread").expect("every ADD succeeds"))
            .collect()
    });
    let distinct: BTreeSet<_> = addresses.iter().collect();
    assert_eq!(
        distinct.len(),
        addresses.len(),
        "an address was handed out twice: {addresses:?}"
    );
    assert_eq!(cluster.addresses().len(), addresses.len());
}
