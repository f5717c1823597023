//! Kubernetes mode: what a pod gets besides its address, from its pool
//! and its annotations (read from the pod through the kube directory).
//! Against the API-server stand-in; the routes' effect inside a real pod
//! is checked with real CNI plugins in `tests/e2e/tests/pod_network.rs`.

mod cluster;

use berth_proto::AddResult;
use cluster::{eventually, sticky, Berthd, Cluster};
use serde_json::json;

fn default_route(result: &AddResult) -> Option<String> {
    result
        .routes
        .iter()
        .find(|r| r.dst == "0.0.0.0/0")
        .and_then(|r| r.gw.clone())
}

#[test]
fn clean_gateway_precedence_is_entry_then_pod_then_cni_config_then_pool() {
    let cluster = Cluster::start();
    cluster.node("node-a");
    cluster.pool_with(
        "gw",
        json!({ "subnet": "10.71.0.0/24", "gateway": "10.71.0.1", "default": true }),
    );
    let berthd = Berthd::start(&cluster, "node-a", sticky("0s"));
    let plain = cluster.pod("plain", "node-a", None, json!({}));
    eventually("the pool is in force", 30, || {
        berthd.add_on(&plain, "c0", "eth0", None).is_ok()
    });
    let got = berthd.add_on(&plain, "c0", "eth0", None).expect("add");
    assert_eq!(default_route(&got).as_deref(), Some("10.71.0.1"), "{got:?}");

    // The pod's annotation beats the CNI config ...
    let cleaned = cluster.pod(
        "cleaned",
        "node-a",
        None,
        json!({ "berth.io/ippool": "gw", "ipam.spidernet.io/cleangateway": "true" }),
    );
    let got = berthd
        .add_on(&cleaned, "c1", "eth0", Some(false))
        .expect("add");
    assert_eq!(default_route(&got), None, "{got:?}");
    // ... and the ippools entry beats the pod-wide annotation.
    let entry = cluster.pod(
        "entry",
        "node-a",
        None,
        json!({
            "ipam.spidernet.io/ippools": r#"[{"interface":"eth0","ipv4":["gw"],"cleangateway":false}]"#,
            "berth.io/cleangateway": "true"
        }),
    );
    let got = berthd.add_on(&entry, "c2", "eth0", None).expect("add");
    assert_eq!(default_route(&got).as_deref(), Some("10.71.0.1"), "{got:?}");
    // The CNI config applies when the pod says nothing.
    let quiet = cluster.pod("quiet", "node-a", None, json!({}));
    let got = berthd
        .add_on(&quiet, "c3", "eth0", Some(true))
        .expect("add");
    assert_eq!(default_route(&got), None, "{got:?}");

    // A malformed annotation: a clear error, nothing written.
    let before = cluster.addresses().len();
    let junk = cluster.pod(
        "junk",
        "node-a",
        None,
        json!({ "berth.io/ippool": "gw", "berth.io/cleangateway": "maybe" }),
    );
    let err = berthd.add_on(&junk, "c4", "eth0", None).expect_err("junk");
    assert!(
        err.starts_with("InvalidConfig") && err.contains("berth.io/cleangateway"),
        "{err}"
    );
    assert_eq!(cluster.addresses().len(), before);
}
