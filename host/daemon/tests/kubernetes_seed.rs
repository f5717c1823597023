//! The seed walkthrough (BRIEF §2) in Kubernetes mode: the real `berthd`
//! binary on the stand-in API server, pods described by the cluster, CNI
//! ADD/DEL over the daemon's socket as the `berth` plugin sends them.

mod cluster;

use cluster::{eventually, sticky, Berthd, Cluster};
use serde_json::json;

fn seed_annotation() -> serde_json::Value {
    json!({ "berth.io/ippool": "test-ippool" })
}

fn in_pool(address: &str) -> bool {
    let last: u32 = address
        .rsplit('.')
        .next()
        .and_then(|o| o.parse().ok())
        .unwrap_or(0);
    address.starts_with("10.6.168.") && (101..=110).contains(&last)
}

#[test]
fn seed_walkthrough() {
    let cluster = Cluster::start();
    cluster.node("node-a");
    cluster.pool("test-ippool", "10.6.0.0/16", &["10.6.168.101-10.6.168.110"]);
    cluster.pool("other-pool", "10.7.0.0/16", &["10.7.0.10-10.7.0.19"]);
    let sts_uid = cluster.stateful_set("test-sts", 2);
    let owner = Some(("StatefulSet", "test-sts", sts_uid.as_str()));
    let berthd = Berthd::start(&cluster, "node-a", sticky("0s"));

    // 1-3: two pods, two addresses of the pool; status 2/10.
    let p0 = cluster.pod("test-sts-0", "node-a", owner, seed_annotation());
    let p1 = cluster.pod("test-sts-1", "node-a", owner, seed_annotation());
    let a0 = berthd.add(&p0, "c0").expect("add 0");
    let a1 = berthd.add(&p1, "c1").expect("add 1");
    assert!(in_pool(&a0) && in_pool(&a1) && a0 != a1, "{a0} {a1}");
    eventually("pool status 2/10", 20, || {
        let status = cluster.pool_status("test-ippool");
        status["allocated"] == 2 && status["total"] == 10
    });

    // 4: delete every pod; the re-created ones (new UIDs) keep their IPs.
    for (pod, c) in [(&p0, "c0"), (&p1, "c1")] {
        cluster.delete_pod(&pod.name);
        berthd.del(pod, c);
    }
    let p0 = cluster.pod("test-sts-0", "node-a", owner, seed_annotation());
    let p1 = cluster.pod("test-sts-1", "node-a", owner, seed_annotation());
    assert_eq!(berthd.add(&p0, "c0b").expect("re-add 0"), a0);
    assert_eq!(berthd.add(&p1, "c1b").expect("re-add 1"), a1);

    // 5: scale to 3: a new address; delete all three: all kept.
    cluster.scale("test-sts", 3);
    let p2 = cluster.pod("test-sts-2", "node-a", owner, seed_annotation());
    let a2 = berthd.add(&p2, "c2").expect("add 2");
    assert!(in_pool(&a2) && a2 != a0 && a2 != a1);
    for (pod, c) in [(&p0, "c0b"), (&p1, "c1b"), (&p2, "c2")] {
        cluster.delete_pod(&pod.name);
        berthd.del(pod, c);
    }
    let p0 = cluster.pod("test-sts-0", "node-a", owner, seed_annotation());
    let p1 = cluster.pod("test-sts-1", "node-a", owner, seed_annotation());
    let p2 = cluster.pod("test-sts-2", "node-a", owner, seed_annotation());
    assert_eq!(berthd.add(&p0, "c0c").expect("again 0"), a0);
    assert_eq!(berthd.add(&p1, "c1c").expect("again 1"), a1);
    assert_eq!(berthd.add(&p2, "c2c").expect("again 2"), a2);

    // 6: scale to 2: test-sts-2's address is released (hold 0s).
    cluster.scale("test-sts", 2);
    cluster.delete_pod("test-sts-2");
    berthd.del(&p2, "c2c");
    eventually("test-sts-2's address released", 30, || !cluster.holds(&a2));

    // 7: the pool annotation changes; the restarted pod moves pools and the
    // old address is released.
    cluster.delete_pod("test-sts-0");
    berthd.del(&p0, "c0c");
    let moved = cluster.pod(
        "test-sts-0",
        "node-a",
        owner,
        json!({ "berth.io/ippool": "other-pool" }),
    );
    let new = berthd.add(&moved, "c0d").expect("add in other pool");
    assert!(new.starts_with("10.7.0."), "{new}");
    assert!(!cluster.holds(&a0), "old address kept");

    // 8: a Deployment's pods are stateless.
    let rs = cluster.pod(
        "web-7d4f-abcde",
        "node-a",
        Some(("ReplicaSet", "web-7d4f", "rs-uid")),
        seed_annotation(),
    );
    let w = berthd.add(&rs, "w1").expect("deployment pod");
    berthd.del(&rs, "w1");
    assert!(!cluster.holds(&w), "stateless address kept");

    // Spiderpool's annotation is accepted unchanged.
    let spider = cluster.pod(
        "spider-pod",
        "node-a",
        None,
        json!({ "ipam.spidernet.io/ippool": "{\"ipv4\": [\"other-pool\"]}" }),
    );
    assert!(berthd
        .add(&spider, "s1")
        .expect("spiderpool annotation")
        .starts_with("10.7.0."));
}

#[test]
fn hold_after_scale_down_restores_the_address_and_no_sticky_policy_means_stateless() {
    let cluster = Cluster::start();
    cluster.node("node-a");
    cluster.pool("test-ippool", "10.6.0.0/16", &["10.6.168.101-10.6.168.110"]);
    let uid = cluster.stateful_set("test-sts", 3);
    let owner = Some(("StatefulSet", "test-sts", uid.as_str()));
    let berthd = Berthd::start(&cluster, "node-a", sticky("1h"));
    let p2 = cluster.pod("test-sts-2", "node-a", owner, seed_annotation());
    let a2 = berthd.add(&p2, "c2").expect("add");

    cluster.scale("test-sts", 2);
    cluster.delete_pod("test-sts-2");
    berthd.del(&p2, "c2");
    // GC retires the identity, which is then held for an hour.
    eventually("identity retired with a hold", 30, || {
        cluster
            .addresses()
            .iter()
            .any(|a| a["spec"]["address"] == a2.as_str() && a["spec"]["expiresAtUnixSecs"].is_u64())
    });
    cluster.scale("test-sts", 3);
    let p2 = cluster.pod("test-sts-2", "node-a", owner, seed_annotation());
    assert_eq!(berthd.add(&p2, "c2b").expect("scale back up"), a2);

    // With the sticky policy removed from the chain, the StatefulSet is
    // stateless: a re-created pod's address is not kept.
    berthd.set_policies(json!([]));
    let p0 = cluster.pod("test-sts-0", "node-a", owner, seed_annotation());
    let a0 = berthd.add(&p0, "c0").expect("add 0");
    berthd.del(&p0, "c0");
    assert!(!cluster.holds(&a0), "kept without the policy");
}
