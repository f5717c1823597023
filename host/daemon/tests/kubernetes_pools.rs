//! Kubernetes mode: a broken or overlapping BerthPool never blocks the
//! others (nodes used to load BerthPools all valid or none).

mod cluster;

use cluster::{eventually, sticky, Berthd, Cluster};
use serde_json::json;

#[test]
fn a_bad_pool_leaves_the_other_pools_working() {
    let cluster = Cluster::start();
    cluster.node("node-a");
    cluster.pool("first", "10.81.0.0/24", &[]);
    let berthd = Berthd::start(&cluster, "node-a", sticky("0s"));
    // A typo, and a pool overlapping `first` created after it.
    cluster.pool("typo", "10.82.0.1/24", &[]);
    cluster.pool("late", "10.81.0.0/25", &[]);
    // A good pool created after them is still picked up.
    cluster.pool("fresh", "10.83.0.0/24", &[]);
    let pod = cluster.pod("p", "node-a", None, json!({ "berth.io/ippool": "fresh" }));
    eventually(
        "the fresh pool is in force despite the bad ones",
        30,
        || {
            berthd
                .add(&pod, "c1")
                .is_ok_and(|a| a.starts_with("10.83."))
        },
    );
    let first = cluster.pod("q", "node-a", None, json!({ "berth.io/ippool": "first" }));
    assert!(berthd
        .add(&first, "c2")
        .expect("first still works")
        .starts_with("10.81."));
    let late = cluster.pod("r", "node-a", None, json!({ "berth.io/ippool": "late" }));
    let refused = berthd
        .add(&late, "c3")
        .expect_err("the later overlapping pool is not used");
    assert!(refused.contains("late"), "{refused}");
    eventually("status says which pool is invalid and why", 30, || {
        let status = cluster.pool_status("late");
        status["conditions"][0]["status"] == "False"
            && status["conditions"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("\"first\""))
            && cluster.pool_status("first")["conditions"][0]["status"] == "True"
    });
}
