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
        .find(|r| r.dst.to_string() == "0.0.0.0/0")
        .and_then(|r| r.gw.map(|g| g.to_string()))
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

fn routes_of(result: &AddResult) -> Vec<String> {
    result
        .routes
        .iter()
        .map(|r| match r.gw {
            Some(gw) => format!("{} via {gw}", r.dst),
            None => format!("{} via ", r.dst),
        })
        .collect()
}

#[test]
fn pod_routes_go_to_the_interface_whose_subnet_holds_their_gateway() {
    let cluster = Cluster::start();
    cluster.node("node-a");
    cluster.pool_with(
        "front",
        json!({ "subnet": "10.72.0.0/24", "gateway": "10.72.0.1",
                "dns": { "nameservers": ["10.72.0.53"], "search": ["front.example"] } }),
    );
    cluster.pool_with("back", json!({ "subnet": "10.73.0.0/24" }));
    let berthd = Berthd::start(&cluster, "node-a", sticky("0s"));
    let pod = cluster.pod(
        "multi",
        "node-a",
        None,
        json!({
            "ipam.spidernet.io/ippools": r#"[{"interface":"eth0","ipv4":["front"]},{"interface":"net1","ipv4":["back"]}]"#,
            "ipam.spidernet.io/routes": r#"[{"dst":"172.16.0.0/12","gw":"10.72.0.254"},{"dst":"192.168.7.0/24","gw":"10.73.0.1"}]"#,
            "berth.io/routes": r#"[{"dst":"0.0.0.0/0","gw":"10.72.0.254"}]"#
        }),
    );
    eventually("the pools are in force", 30, || {
        berthd.add_on(&pod, "c1", "eth0", None).is_ok()
    });
    let eth0 = berthd.add_on(&pod, "c1", "eth0", None).expect("eth0");
    assert_eq!(
        routes_of(&eth0),
        vec!["0.0.0.0/0 via 10.72.0.254", "172.16.0.0/12 via 10.72.0.254"],
        "the pod's default route replaces the gateway's; net1's route is not here"
    );
    assert_eq!(
        eth0.dns.nameservers,
        vec!["10.72.0.53".parse::<std::net::IpAddr>().expect("address")]
    );
    assert_eq!(eth0.dns.search, vec!["front.example"]);
    let net1 = berthd.add_on(&pod, "c1", "net1", None).expect("net1");
    assert_eq!(routes_of(&net1), vec!["192.168.7.0/24 via 10.73.0.1"]);
    assert!(net1.dns.nameservers.is_empty(), "{net1:?}");
    assert_eq!(cluster.addresses().len(), 2);

    // A route no pool can reach, and a malformed one: code 7, nothing written.
    for (name, annotations, wanted) in [
        (
            "nowhere",
            json!({ "berth.io/ippool": "front",
                    "berth.io/routes": r#"[{"dst":"172.16.0.0/12","gw":"10.99.0.1"}]"# }),
            "no pool's subnet holds 10.99.0.1",
        ),
        (
            "mixed",
            json!({ "berth.io/ippool": "front",
                    "ipam.spidernet.io/routes": r#"[{"dst":"172.16.0.0/12","gw":"fd00::1"}]"# }),
            "ipam.spidernet.io/routes",
        ),
    ] {
        let bad = cluster.pod(name, "node-a", None, annotations);
        let err = berthd.add_on(&bad, name, "eth0", None).expect_err(name);
        assert!(
            err.starts_with("InvalidConfig") && err.contains(wanted),
            "{err}"
        );
    }
    assert_eq!(cluster.addresses().len(), 2, "{:?}", cluster.addresses());
}
