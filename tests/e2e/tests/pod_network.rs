//! What a pod gets besides its address, checked where it lands: Debian's
//! bridge and macvlan plugins exec `berth` against a real `berthd`, and
//! the routes are read back from the pod's network namespace.

use berth_e2e::scenario::{seed_config, Node, Pod};
use serde_json::{json, Value};

/// The pod's default route's next hop, as the kernel has it.
fn default_gateway(pod: &Pod) -> Option<String> {
    let out = pod.netns.ip(&["-j", "route", "show", "default"]);
    let routes: Value = serde_json::from_str(&out).expect("ip -j route output");
    routes
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|r| r["gateway"].as_str().map(str::to_owned))
}

fn gateway_pools() -> Vec<Value> {
    vec![
        json!({ "name": "gw-pool", "subnet": "10.61.0.0/24", "gateway": "10.61.0.1",
                "ips": ["10.61.0.10-10.61.0.40"] }),
        json!({ "name": "clean-pool", "subnet": "10.62.0.0/24", "gateway": "10.62.0.1",
                "ips": ["10.62.0.10-10.62.0.40"], "cleanGateway": true }),
    ]
}

fn with_clean_gateway(mut config: Value, clean: bool) -> Value {
    config["ipam"]["cleanGateway"] = json!(clean);
    config
}

/// Each case: the CNI config, and the default route the pod must get.
fn cases(plain: impl Fn(&[&str]) -> Value) -> Vec<(&'static str, Value, Option<&'static str>)> {
    vec![
        ("pool gateway", plain(&["gw-pool"]), Some("10.61.0.1")),
        (
            "CNI config cleans it",
            with_clean_gateway(plain(&["gw-pool"]), true),
            None,
        ),
        ("pool cleans it", plain(&["clean-pool"]), None),
        (
            "CNI config overrides the pool",
            with_clean_gateway(plain(&["clean-pool"]), false),
            Some("10.62.0.1"),
        ),
    ]
}

fn check(node: &Node, plugin: &str, config_of: impl Fn(&[&str]) -> Value) {
    for (i, (what, config, want)) in cases(config_of).into_iter().enumerate() {
        let pod = Pod::new(&format!("{plugin}-{i}"));
        let result = node.add_result(plugin, &pod, &config);
        let in_result = result["routes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["dst"] == "0.0.0.0/0")
            .and_then(|r| r["gw"].as_str().map(str::to_owned));
        assert_eq!(in_result.as_deref(), want, "{plugin}, {what}: {result}");
        assert_eq!(
            default_gateway(&pod).as_deref(),
            want,
            "{plugin}, {what}: {}",
            pod.netns.ip(&["route"])
        );
        node.del(plugin, &pod, &config);
    }
}

#[test]
fn a_pools_gateway_is_the_default_route_through_bridge_unless_cleaned() {
    let node = Node::start(seed_config(gateway_pools()));
    check(&node, "bridge", |pools| node.bridge_config(pools));
}

#[test]
fn a_pools_gateway_is_the_default_route_through_macvlan_unless_cleaned() {
    let node = Node::start(seed_config(gateway_pools()));
    node.add_uplink("up0");
    check(&node, "macvlan", |pools| node.macvlan_config("up0", pools));
}

#[test]
fn a_default_route_the_pool_lists_is_not_doubled() {
    let mut pools = gateway_pools();
    pools[0]["routes"] = json!([{ "dst": "0.0.0.0/0", "gw": "10.61.0.254" }]);
    let node = Node::start(seed_config(pools));
    let pod = Pod::new("listed");
    let config = node.bridge_config(&["gw-pool"]);
    let result = node.add_result("bridge", &pod, &config);
    assert_eq!(
        result["routes"],
        json!([{ "dst": "0.0.0.0/0", "gw": "10.61.0.254" }]),
        "{result}"
    );
    assert_eq!(default_gateway(&pod).as_deref(), Some("10.61.0.254"));
}

/// The pool's DNS settings are in `berth`'s result, and a main plugin that
/// passes its IPAM's DNS on (Debian's ptp does when its own config sets no
/// `dns`; Debian's bridge 1.1.1 and macvlan replace it with theirs) hands
/// them to the runtime.
#[test]
fn a_pools_dns_settings_reach_the_result() {
    let mut pools = gateway_pools();
    pools[0]["dns"] = json!({
        "nameservers": ["10.61.0.53"],
        "domain": "example.internal",
        "search": ["svc.example.internal", "example.internal"],
        "options": ["ndots:2"]
    });
    let node = Node::start(seed_config(pools));
    let want = json!({
        "nameservers": ["10.61.0.53"],
        "domain": "example.internal",
        "search": ["svc.example.internal", "example.internal"],
        "options": ["ndots:2"]
    });
    let ipam_only = node.bridge_config(&["gw-pool"]);
    let direct = node.ipam("ADD", "dns-direct", "", &ipam_only).ok();
    assert_eq!(direct["dns"], want, "{direct}");
    assert!(node.ipam("DEL", "dns-direct", "", &ipam_only).success);

    let ptp = json!({
        "cniVersion": "1.0.0",
        "name": "berth-ptp",
        "type": "ptp",
        "ipMasq": false,
        "ipam": { "type": "berth", "socket": node.daemon.socket, "pools": ["gw-pool"] }
    });
    let pod = Pod::new("dns-ptp");
    let result = node.add_result("ptp", &pod, &ptp);
    assert_eq!(result["dns"], want, "{result}");
    assert_eq!(default_gateway(&pod).as_deref(), Some("10.61.0.1"));
    node.del("ptp", &pod, &ptp);

    // A pool without DNS settings: the empty object, as host-local prints.
    let bare = node
        .ipam("ADD", "dns-none", "", &node.bridge_config(&["clean-pool"]))
        .ok();
    assert_eq!(bare["dns"], json!({}), "{bare}");
}
