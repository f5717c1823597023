//! Kubernetes mode: a node's own CNI GC and expiry act on its own records
//! only, though every node's allocator holds every node's records.

mod cluster;

use cluster::{eventually, sticky, Berthd, Cluster};
use serde_json::json;

fn shared() -> serde_json::Value {
    json!({ "berth.io/ippool": "shared" })
}

#[test]
fn cni_gc_on_one_node_leaves_other_nodes_live_addresses() {
    let cluster = Cluster::start();
    cluster.node("node-a");
    cluster.node("node-b");
    cluster.pool("shared", "10.21.0.0/24", &[]);
    let a = Berthd::start(&cluster, "node-a", sticky("0s"));
    let b = Berthd::start(&cluster, "node-b", sticky("0s"));
    let pa = cluster.pod("pa", "node-a", None, shared());
    let pb = cluster.pod("pb", "node-b", None, shared());
    // The pod still exists, so the cluster GC keeps its address; only the
    // runtime knows the container is gone.
    let ps = cluster.pod("ps", "node-b", None, shared());
    let addr_a = a.add(&pa, "ca").expect("add pa");
    let addr_b = b.add(&pb, "cb").expect("add pb");
    let addr_s = b.add(&ps, "cs").expect("add ps");
    eventually("node-b sees node-a's record", 30, || b.knows(&addr_a));

    // What containerd on node-b sends: node-b's live attachments only.
    b.gc(&["cb"]);
    assert!(
        cluster.holds(&addr_a),
        "node-b's GC released node-a's live {addr_a}"
    );
    assert!(
        cluster.holds(&addr_b),
        "node-b's GC released its own live {addr_b}"
    );
    assert!(!cluster.holds(&addr_s), "node-b's stale {addr_s} was kept");
    assert!(
        b.knows(&addr_a),
        "node-b dropped node-a's record from its view"
    );

    // And the other way round.
    a.gc(&[]);
    assert!(!cluster.holds(&addr_a));
    assert!(
        cluster.holds(&addr_b),
        "node-a's GC released node-b's live {addr_b}"
    );
}

/// The log without terminal colour codes (`ESC [ ... m`).
fn plain(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut in_escape = false;
    for c in log.chars() {
        match (in_escape, c) {
            (false, '\u{1b}') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, c) => out.push(c),
        }
    }
    out
}

/// Sum of `released=N` over the "retained bindings expired" log lines.
fn expired_by(node: &Berthd) -> u64 {
    plain(&node.log())
        .lines()
        .filter(|l| l.contains("retained bindings expired"))
        .filter_map(|l| l.split("released=").nth(1))
        .filter_map(|n| n.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

#[test]
fn retained_records_on_two_nodes_expire_once_each_by_their_own_node() {
    let cluster = Cluster::start();
    cluster.node("node-a");
    cluster.node("node-b");
    cluster.pool("shared", "10.22.0.0/24", &[]);
    let uid = cluster.stateful_set("db", 2);
    let owner = Some(("StatefulSet", "db", uid.as_str()));
    let a = Berthd::start(&cluster, "node-a", sticky("3s"));
    let b = Berthd::start(&cluster, "node-b", sticky("3s"));
    let db0 = cluster.pod("db-0", "node-a", owner, shared());
    let db1 = cluster.pod("db-1", "node-b", owner, shared());
    let addr0 = a.add(&db0, "d0").expect("add db-0");
    let addr1 = b.add(&db1, "d1").expect("add db-1");
    a.del(&db0, "d0");
    b.del(&db1, "d1");
    eventually("each node sees the other's retained record", 30, || {
        a.knows(&addr1) && b.knows(&addr0)
    });

    // Scaled to zero: each node retires its own ordinal, whose 3 s hold
    // then runs out while both nodes' expiry passes tick every second.
    cluster.delete_pod("db-0");
    cluster.delete_pod("db-1");
    cluster.scale("db", 0);
    eventually("both retained addresses freed", 60, || {
        !cluster.holds(&addr0) && !cluster.holds(&addr1)
    });
    // Let another few expiry passes run on both nodes.
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(expired_by(&a), 1, "node-a's log:\n{}", a.log());
    assert_eq!(expired_by(&b), 1, "node-b's log:\n{}", b.log());
    for node in [&a, &b] {
        assert!(
            !node.log().contains("expiry failed"),
            "a node raced another's expiry:\n{}",
            node.log()
        );
    }
}
