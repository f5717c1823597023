//! Operating the daemon: reload without restart (SIGHUP and a changed
//! file), a refused bad reload, metrics, explain, GC, retention expiry,
//! dual stack, and a graceful stop.

use berth_e2e::cni::pod_args;
use berth_e2e::eventually;
use berth_e2e::http::{free_port, get as http_get};
use berth_e2e::scenario::{seed_config, Node, Pod};
use serde_json::{json, Value};

fn ipam(node: &Node, pools: &[&str]) -> Value {
    json!({
        "cniVersion": "1.1.0",
        "name": "ops",
        "ipam": { "type": "berth", "socket": node.daemon.socket, "pools": pools }
    })
}

/// How often the log says `needle`: a reload leaves one line per attempt,
/// so a test waits for the count to grow instead of sleeping.
fn log_count(node: &Node, needle: &str) -> usize {
    node.daemon.log().matches(needle).count()
}

#[test]
fn reload_by_signal_without_dropping_state() {
    let mut config = seed_config(vec![]);
    // No polling within the test's lifetime: every reload here is SIGHUP's,
    // so the test fails if the signal is ignored.
    config["limits"] = json!({ "configPollIntervalSecs": 3600 });
    let node = Node::start(config.clone());
    let args = pod_args("default", "test-sts-0", "u0");
    let first = node
        .ipam("ADD", "c0", &args, &ipam(&node, &["test-ippool"]))
        .ok();

    // A bad config is refused and the running one stays.
    std::fs::write(
        &node.daemon.config_path,
        b"{ \"pools\": [ { \"name\": \"x\" } ] }",
    )
    .expect("write");
    assert_eq!(log_count(&node, "reload failed"), 0);
    node.daemon.signal("HUP");
    eventually("the bad config's reload refused", 10, || {
        log_count(&node, "reload failed") == 1
    });
    assert!(
        node.ipam(
            "ADD",
            "c1",
            &pod_args("default", "p1", "u1"),
            &ipam(&node, &["test-ippool"])
        )
        .success
    );

    // A good one with a new pool is picked up by SIGHUP.
    let mut more = config.clone();
    more["pools"]
        .as_array_mut()
        .expect("pools")
        .push(json!({ "name": "added", "subnet": "10.11.0.0/24" }));
    node.daemon.rewrite_config(more);
    node.daemon.signal("HUP");
    eventually("pool `added` after SIGHUP", 10, || {
        node.ipam(
            "ADD",
            "c2",
            &pod_args("default", "p2", "u2"),
            &ipam(&node, &["added"]),
        )
        .success
    });

    // The allocation made before every reload is untouched.
    let held = node.daemon.address_of_pod("default/test-sts-0");
    assert_eq!(held.len(), 1);
    assert!(first["ips"][0]["address"]
        .as_str()
        .expect("addr")
        .starts_with(&held[0]));
    assert_eq!(
        log_count(&node, "config file changed"),
        0,
        "polling reloaded"
    );
}

#[test]
fn reload_by_file_change_alone() {
    let mut config = seed_config(vec![]);
    config["limits"] = json!({ "configPollIntervalSecs": 1 });
    let node = Node::start(config.clone());
    // As a Helm upgrade rewrites a ConfigMap: no signal, only the file.
    let mut more = config;
    more["pools"]
        .as_array_mut()
        .expect("pools")
        .push(json!({ "name": "polled", "subnet": "10.12.0.0/24" }));
    more["policies"] = json!([]);
    node.daemon.rewrite_config(more);
    eventually("pool `polled` after the file changed", 15, || {
        node.ipam(
            "ADD",
            "c3",
            &pod_args("default", "p3", "u3"),
            &ipam(&node, &["polled"]),
        )
        .success
    });
    assert!(
        log_count(&node, "config file changed") >= 1 && log_count(&node, "config reloaded") >= 1,
        "{}",
        node.daemon.log()
    );
}

#[test]
fn metrics_explain_gc_and_graceful_stop() {
    let port = free_port();
    let mut config = seed_config(vec![]);
    config["metricsAddress"] = json!(format!("127.0.0.1:{port}"));
    let mut node = Node::start(config);
    let cfg = ipam(&node, &["test-ippool"]);
    for i in 0..3 {
        node.ipam(
            "ADD",
            &format!("gc-{i}"),
            &pod_args("default", &format!("test-sts-{i}"), "u"),
            &cfg,
        )
        .ok();
    }
    node.ipam("ADD", "stateless", &pod_args("default", "web-1", "u"), &cfg)
        .ok();

    // Metrics are served from a snapshot refreshed every second.
    let needles = [
        "berth_allocation_latency_us_bucket{le=\"1000\"}",
        "berth_allocation_latency_us_count 4",
        "berth_pool_used{pool=\"test-ippool\"} 4",
        "berth_pool_total{pool=\"test-ippool\"} 10",
        "berth_policy_evaluations_total{policy=\"sticky\"}",
        "berth_requests_total{verb=\"add\",result=\"ok\"} 4",
    ];
    let mut metrics = String::new();
    eventually("the metrics snapshot shows the ADDs", 10, || {
        metrics = http_get(port, "/metrics");
        needles.iter().all(|n| metrics.contains(n))
    });
    for needle in needles {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }

    let explained = node.daemon.cli(&["explain", "default/test-sts-1"]);
    let steps = explained["explanations"][0]["steps"].to_string();
    assert!(
        steps.contains("sticky [identify]: identity default/test-sts-1"),
        "{explained}"
    );

    // GC with only gc-0 valid: the stateless pod's address is freed, the
    // sticky ones are retained for their identities.
    let mut gc = cfg.clone();
    gc["cni.dev/valid-attachments"] = json!([{ "containerID": "gc-0", "ifname": "eth0" }]);
    node.ipam("GC", "", "", &gc).ok();
    let after = node.daemon.allocations();
    assert_eq!(after.len(), 3, "{after:?}");
    assert!(after.iter().all(|a| a["pod"] != "default/web-1"));
    assert_eq!(after.iter().filter(|a| a["state"] == "attached").count(), 1);

    // Operator release of an identity frees its retained address.
    let released = node
        .daemon
        .cli(&["release", "--identity", "default/test-sts-2"]);
    assert_eq!(released["count"], 1, "{released}");

    node.daemon.signal("TERM");
    assert_eq!(
        node.daemon.wait_exit(20),
        Some(true),
        "{}",
        node.daemon.log()
    );
    assert!(!node.daemon.socket.exists(), "socket left behind");
}

#[test]
fn retained_bindings_expire_and_dual_stack_is_all_or_nothing() {
    let mut config = seed_config(vec![
        json!({ "name": "v6", "subnet": "fd00:10::/64", "ips": ["fd00:10::10-fd00:10::11"] }),
    ]);
    config["policies"][0]["settings"] =
        json!({ "stableIdentities": [{ "podNamePattern": "keep-*", "retainSecs": 1 }] });
    config["limits"] = json!({ "expiryIntervalSecs": 1 });
    let node = Node::start(config);

    // Dual stack: one address per family, through the bridge plugin.
    let both = node.bridge_config(&["test-ippool", "v6"]);
    let pod = Pod::new("keep-0");
    let result = node.add_result("bridge", &pod, &both);
    let ips: Vec<&str> = result["ips"]
        .as_array()
        .expect("ips")
        .iter()
        .filter_map(|ip| ip["address"].as_str())
        .collect();
    assert_eq!(ips.len(), 2, "{result}");
    assert!(ips.iter().any(|a| a.starts_with("fd00:10::")), "{ips:?}");
    let on_link = pod.netns.addresses("eth0");
    assert!(
        ips.iter().all(|a| on_link.contains(&a.to_string())),
        "{ips:?} vs {on_link:?}"
    );

    // Exhaust v6 (2 addresses): the next dual-stack ADD fails whole,
    // leaving no v4 address behind.
    let cfg = ipam(&node, &["test-ippool", "v6"]);
    node.ipam("ADD", "dual-2", &pod_args("default", "x2", "u"), &cfg)
        .ok();
    let before = node.daemon.allocations().len();
    let failed = node.ipam("ADD", "dual-3", &pod_args("default", "x3", "u"), &cfg);
    assert_eq!(failed.code(), 100, "{}", failed.stdout);
    assert_eq!(node.daemon.allocations().len(), before);

    // keep-0 is retained for 1 s after DEL, then the expiry loop frees it.
    node.del("bridge", &pod, &both);
    assert!(node
        .daemon
        .allocations()
        .iter()
        .any(|a| a["pod"] == "default/keep-0" && a["state"] == "retained"));
    eventually("retained keep-0 to expire", 15, || {
        !node
            .daemon
            .allocations()
            .iter()
            .any(|a| a["pod"] == "default/keep-0")
    });
}
