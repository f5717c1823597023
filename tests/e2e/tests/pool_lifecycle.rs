//! Issue 10, items 1 and 3 on a single host: a bad config is refused whole
//! with every reason listed (check-config, serve and reload alike), and
//! shrinking a pool's ranges under a held address (reload) leaves it with
//! its pod, counted as orphaned by `berthd pools` and marked by `berthd
//! allocations`; released, it is never handed out again. Real bridge
//! plugin, real `berth` binary.

use berth_e2e::eventually;
use berth_e2e::scenario::{bare, Node, Pod};
use serde_json::{json, Value};
use std::process::Command;

fn config(pools: Value) -> Value {
    json!({ "pools": pools, "limits": { "configPollIntervalSecs": 1 } })
}

fn shrink_pool(ips: &[&str], exclude: &[&str]) -> Value {
    json!([{ "name": "shrink", "subnet": "10.58.0.0/24",
             "ips": ips, "excludeIps": exclude }])
}

#[test]
fn a_bad_config_is_refused_whole_with_every_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.json");
    let bad = json!({
        "socketPath": dir.path().join("s.sock"),
        "dataDir": dir.path().join("data"),
        "pools": [
            { "name": "good", "subnet": "10.59.0.0/24" },
            { "name": "typo", "subnet": "10.59.1.1/24" },
            { "name": "late", "subnet": "10.59.0.0/25" },
            { "name": "good", "subnet": "10.59.2.0/24" },
            { "name": "reversed", "subnet": "10.59.3.0/24", "ips": ["10.59.3.9-10.59.3.1"] },
        ]
    });
    std::fs::write(&path, bad.to_string()).expect("config");
    let check = Command::new(berth_e2e::workspace_bin("berthd"))
        .args(["check-config", "--config"])
        .arg(&path)
        .output()
        .expect("check-config");
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(!check.status.success(), "check-config passed: {stderr}");
    for reason in [
        "4 pool problem(s), nothing applied",
        "pool \"typo\": subnet",
        "pool \"late\": ips: overlaps the addresses of pool \"good\"",
        "pool \"good\": name: defined twice",
        "pool \"reversed\": ips",
    ] {
        assert!(stderr.contains(reason), "{reason:?} not in {stderr}");
    }
    assert!(!dir.path().join("data").exists(), "something was created");

    // A running daemon keeps its config when a reload brings the same.
    let node = Node::start(config(shrink_pool(&["10.58.0.1-10.58.0.3"], &[])));
    let mut broken = config(bad["pools"].clone());
    broken["pools"]
        .as_array_mut()
        .expect("pools")
        .push(shrink_pool(&[], &[])[0].clone());
    node.daemon.rewrite_config(broken);
    node.daemon.signal("HUP");
    eventually("the reload refused with every reason", 10, || {
        let log = node.daemon.log();
        log.contains("4 pool problem(s)") && log.contains("defined twice")
    });
    let pools = node.daemon.cli(&["pools"]);
    let names: Vec<&str> = pools["pools"]
        .as_array()
        .expect("pools")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["shrink"], "{pools}");
}

#[test]
fn shrinking_under_a_held_address_keeps_it_as_an_orphan() {
    let node = Node::start(config(shrink_pool(&["10.58.0.1-10.58.0.3"], &[])));
    let net = node.bridge_config(&["shrink"]);
    let pods: Vec<Pod> = (0..3).map(|i| Pod::new(&format!("s{i}"))).collect();
    let addresses: Vec<String> = pods
        .iter()
        .map(|p| bare(&node.add("bridge", p, &net)).to_owned())
        .collect();
    let victim = addresses[2].clone();

    // Shrink the ranges under s2's address.
    node.daemon
        .rewrite_config(config(shrink_pool(&["10.58.0.1-10.58.0.3"], &[&victim])));
    node.daemon.signal("HUP");
    eventually("berthd pools counts the orphan", 10, || {
        let pools = node.daemon.cli(&["pools"]);
        let row = &pools["pools"][0];
        row["name"] == "shrink" && row["orphaned_addresses"] == 1 && row["total"] == 2
    });
    let pools = node.daemon.cli(&["pools"]);
    assert_eq!(pools["pools"][0]["used"], 3, "{pools}");
    assert_eq!(pools["pools"].as_array().map(Vec::len), Some(1), "{pools}");
    let allocations = node.daemon.allocations();
    for a in &allocations {
        let orphan = a["address"] == victim.as_str();
        assert_eq!(a["orphaned"], orphan, "{a}");
    }
    // The holder keeps it: its address is still held and on its link.
    assert_eq!(
        node.daemon.address_of_pod("default/s2"),
        std::slice::from_ref(&victim)
    );
    let text = Command::new(berth_e2e::workspace_bin("berthd"))
        .arg("allocations")
        .arg("--socket")
        .arg(&node.daemon.socket)
        .output()
        .expect("berthd allocations");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.lines()
            .any(|l| l.contains(&victim) && l.contains("attached (orphaned)")),
        "{text}"
    );

    // Released, it is never handed out again: s0's address is, and then
    // the pool is full.
    node.del("bridge", &pods[2], &net);
    node.del("bridge", &pods[0], &net);
    let n1 = Pod::new("n1");
    assert_eq!(bare(&node.add("bridge", &n1, &net)), addresses[0]);
    let n2 = Pod::new("n2");
    let refused = node.call("bridge", "ADD", &n2, &net);
    assert!(!refused.success, "n2 got an address: {}", refused.stdout);
    assert!(
        node.daemon
            .allocations()
            .iter()
            .all(|a| a["address"] != victim.as_str()),
        "the released orphan was handed out again"
    );
    let pools = node.daemon.cli(&["pools"]);
    assert_eq!(pools["pools"][0]["orphaned_addresses"], 0, "{pools}");
}
