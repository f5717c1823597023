//! Kubernetes mode: pool node and namespace selectors. A StatefulSet pod
//! re-created on another node keeps its address unless its pool's node
//! selector excludes the new node; a pod no named pool admits is refused
//! with the reason and nothing is written.

mod cluster;

use cluster::{eventually, sticky, Berthd, Cluster};
use serde_json::json;

#[test]
fn a_moved_statefulset_pod_keeps_its_address_unless_its_pool_excludes_the_node() {
    let cluster = Cluster::start();
    cluster.namespace("default", json!({ "team": "web" }));
    cluster.labeled_node("node-a", json!({ "zone": "a" }));
    cluster.labeled_node("node-b", json!({ "zone": "a" }));
    cluster.labeled_node("node-c", json!({ "zone": "b" }));
    cluster.selective_pool("zone-a", "10.51.0.0/24", json!({}), json!({ "zone": "a" }));
    cluster.selective_pool("zone-b", "10.52.0.0/24", json!({}), json!({ "zone": "b" }));
    cluster.selective_pool(
        "team-db",
        "10.53.0.0/24",
        json!({ "team": "db" }),
        json!({}),
    );
    let uid = cluster.stateful_set("db", 1);
    let owner = Some(("StatefulSet", "db", uid.as_str()));
    let both_zones = json!({ "berth.io/ippool": "zone-a,zone-b" });
    let a = Berthd::start(&cluster, "node-a", sticky("0s"));
    let b = Berthd::start(&cluster, "node-b", sticky("0s"));
    let c = Berthd::start(&cluster, "node-c", sticky("0s"));

    let pod = cluster.pod("db-0", "node-a", owner, both_zones.clone());
    let first = a.add(&pod, "c1").expect("add on node-a");
    assert!(first.starts_with("10.51.0."), "{first}");
    a.del(&pod, "c1");
    cluster.delete_pod("db-0");

    // Same zone, other node: the binding follows the pod.
    let pod = cluster.pod("db-0", "node-b", owner, both_zones.clone());
    assert_eq!(b.add(&pod, "c2").expect("add on node-b"), first);
    b.del(&pod, "c2");
    cluster.delete_pod("db-0");

    // Zone b: zone-a excludes the node, so the pod moves to zone-b and the
    // old address is freed; the identity still holds one address.
    let pod = cluster.pod("db-0", "node-c", owner, both_zones);
    let moved = c.add(&pod, "c3").expect("add on node-c");
    assert!(moved.starts_with("10.52.0."), "{moved}");
    eventually("the zone-a address is released", 30, || {
        !cluster.holds(&first)
    });
    assert_eq!(cluster.addresses().len(), 1, "{:?}", cluster.addresses());

    // Named pools that all exclude the pod: a clear error, nothing written.
    let web = cluster.pod(
        "web-0",
        "node-c",
        None,
        json!({ "berth.io/ippool": "zone-a" }),
    );
    let err = c.add(&web, "w1").expect_err("zone-a excludes node-c");
    assert!(
        err.starts_with("InvalidConfig")
            && err.contains("nodeSelector zone=a does not match node \"node-c\" (it has zone=b)"),
        "{err}"
    );
    let team = cluster.pod(
        "web-1",
        "node-c",
        None,
        json!({ "berth.io/ippool": "team-db" }),
    );
    let err = c
        .add(&team, "w2")
        .expect_err("team-db excludes namespace default");
    assert!(
        err.contains(
            "namespaceSelector team=db does not match namespace \"default\" (it has team=web)"
        ),
        "{err}"
    );
    assert_eq!(cluster.addresses().len(), 1, "{:?}", cluster.addresses());
}
