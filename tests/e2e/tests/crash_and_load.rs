//! Durability and concurrency: kill -9 of the daemon loses nothing it
//! acknowledged; 200 parallel ADDs give 200 distinct persisted addresses.

use berth_e2e::cni::pod_args;
use berth_e2e::scenario::{seed_config, Node, Pod};
use serde_json::json;
use std::collections::BTreeSet;

fn addresses(node: &Node) -> BTreeSet<(String, String, String)> {
    node.daemon
        .allocations()
        .iter()
        .map(|a| {
            (
                a["address"].to_string(),
                a["identity"].to_string(),
                a["state"].to_string(),
            )
        })
        .collect()
}

#[test]
fn kill_nine_loses_no_acknowledged_allocation() {
    let node = Node::start(seed_config(vec![]));
    let config = node.bridge_config(&["test-ippool"]);
    let pods: Vec<Pod> = (0..3).map(|i| Pod::new(&format!("test-sts-{i}"))).collect();
    let acked: Vec<String> = pods
        .iter()
        .map(|p| node.add("bridge", p, &config))
        .collect();
    node.del("bridge", &pods[2], &config);
    let before = addresses(&node);

    let mut node = node;
    node.daemon.restart();
    assert_eq!(addresses(&node), before, "state changed across kill -9");

    // The retained binding of test-sts-2 survived: its re-creation gets it.
    let again = pods[2].recreate();
    assert_eq!(node.add("bridge", &again, &config), acked[2]);
}

#[test]
fn two_hundred_parallel_adds_are_distinct_and_durable() {
    let pool = json!({ "name": "big", "subnet": "10.7.0.0/24", "default": false });
    let mut node = Node::start(seed_config(vec![pool]));
    let config = json!({
        "cniVersion": "1.1.0",
        "name": "parallel",
        "ipam": { "type": "berth", "socket": node.daemon.socket, "pools": ["big"] }
    });
    let results: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..200)
            .map(|i| {
                let (node, config) = (&node, &config);
                scope.spawn(move || {
                    let args = pod_args("load", &format!("pod-{i}"), &format!("uid-{i}"));
                    let out = node
                        .ipam("ADD", &format!("parallel-{i}"), &args, config)
                        .ok();
                    out["ips"][0]["address"]
                        .as_str()
                        .expect("address")
                        .to_owned()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let distinct: BTreeSet<_> = results.iter().collect();
    assert_eq!(distinct.len(), 200, "duplicates handed out");
    node.daemon.restart();
    let persisted = node.daemon.allocations();
    assert_eq!(persisted.iter().filter(|a| a["pool"] == "big").count(), 200);
}
