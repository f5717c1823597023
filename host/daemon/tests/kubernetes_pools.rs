//! Kubernetes mode: a broken or overlapping BerthPool never blocks the
//! others (nodes used to load BerthPools all valid or none); a disabled
//! pool keeps what it holds.

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

/// Issue 10 item 4: `disable: true` on a BerthPool stops new addresses;
/// held and retained ones stay, and a re-created StatefulSet pod keeps its
/// address.
#[test]
fn a_disabled_pool_keeps_held_and_sticky_addresses() {
    let cluster = Cluster::start();
    cluster.node("node-a");
    cluster.pool("db-pool", "10.84.0.0/24", &["10.84.0.10-10.84.0.19"]);
    let sts_uid = cluster.stateful_set("db", 1);
    let owner = Some(("StatefulSet", "db", sts_uid.as_str()));
    let annotation = json!({ "berth.io/ippool": "db-pool" });
    let berthd = Berthd::start(&cluster, "node-a", sticky("0s"));
    let db0 = cluster.pod("db-0", "node-a", owner, annotation.clone());
    let sticky_address = berthd.add(&db0, "c1").expect("db-0");
    let web = cluster.pod("web", "node-a", None, annotation.clone());
    let web_address = berthd.add(&web, "c2").expect("web");

    cluster.patch_pool("db-pool", json!({ "disable": true }));
    // Until berthd's next pool sync a newcomer may still get an address:
    // each try is a new pod, so a success is not repeated idempotently.
    let mut tries = 0;
    eventually("the disabled pool refuses new pods", 30, || {
        tries += 1;
        let newcomer = cluster.pod(&format!("web-{tries}"), "node-a", None, annotation.clone());
        berthd
            .add(&newcomer, &format!("n{tries}"))
            .is_err_and(|e| e.contains("disabled"))
    });
    let early = tries - 1;
    cluster.delete_pod("db-0");
    berthd.del(&db0, "c1");
    assert!(
        cluster.holds(&sticky_address),
        "db-0's address was released"
    );
    let db0 = cluster.pod("db-0", "node-a", owner, annotation);
    assert_eq!(berthd.add(&db0, "c4").expect("db-0 again"), sticky_address);
    assert!(cluster.holds(&web_address));
    assert_eq!(
        cluster.addresses().len(),
        2 + early,
        "{:?}",
        cluster.addresses()
    );
}
