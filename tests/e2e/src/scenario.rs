//! Building blocks shared by the scenarios: a host namespace with a
//! daemon, network configs for bridge and macvlan, and pods.

use crate::cni::{exec, pod_args, CniCall, CniOutput};
use crate::daemon::Daemon;
use crate::netns::Netns;
use serde_json::{json, Value};
use std::path::Path;

/// A test "node": a namespace playing the host, and the daemon.
pub struct Node {
    pub host: Netns,
    pub daemon: Daemon,
    pub cni_path: String,
}

/// A pod: its own network namespace and container id.
pub struct Pod {
    pub name: String,
    pub netns: Netns,
    pub container_id: String,
    pub uid: String,
}

impl Pod {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            netns: Netns::new("bpod"),
            container_id: crate::unique(&format!("cid-{name}-")),
            uid: crate::unique("uid-"),
        }
    }

    /// The same pod name re-created: new sandbox, container id and UID.
    pub fn recreate(&self) -> Self {
        Self::new(&self.name)
    }
}

impl Node {
    pub fn start(daemon_config: Value) -> Self {
        let host = Netns::new("bhost");
        let daemon = Daemon::start(daemon_config);
        let cni_path = format!("{}:{}", crate::bin_dir().display(), crate::CNI_PLUGIN_DIR);
        Self {
            host,
            daemon,
            cni_path,
        }
    }

    /// A veth inside the host namespace to serve as macvlan master (dummy
    /// links are not available on this kernel).
    pub fn add_uplink(&self, name: &str) {
        let peer = format!("{name}p");
        self.host
            .ip(&["link", "add", name, "type", "veth", "peer", "name", &peer]);
        self.host.ip(&["link", "set", name, "up"]);
        self.host.ip(&["link", "set", &peer, "up"]);
    }

    pub fn bridge_config(&self, pools: &[&str]) -> Value {
        json!({
            "cniVersion": "1.0.0",
            "name": "berth-e2e",
            "type": "bridge",
            "bridge": "bberth0",
            "isGateway": false,
            "ipMasq": false,
            "ipam": { "type": "berth", "socket": self.daemon.socket, "pools": pools }
        })
    }

    pub fn macvlan_config(&self, master: &str, pools: &[&str]) -> Value {
        json!({
            "cniVersion": "1.0.0",
            "name": "berth-macvlan",
            "type": "macvlan",
            "master": master,
            "mode": "bridge",
            "ipam": { "type": "berth", "socket": self.daemon.socket, "pools": pools }
        })
    }

    /// Runs `plugin` for `pod` (ADD, DEL, CHECK) in the host namespace.
    pub fn call(&self, plugin: &str, command: &str, pod: &Pod, config: &Value) -> CniOutput {
        let args = pod_args("default", &pod.name, &pod.uid);
        let call = CniCall {
            command,
            container_id: &pod.container_id,
            netns: Some(&pod.netns),
            ifname: "eth0",
            args: &args,
        };
        exec(
            &Path::new(crate::CNI_PLUGIN_DIR).join(plugin),
            Some(&self.host),
            &self.cni_path,
            &call,
            config,
        )
    }

    /// ADD through `plugin`; returns the address (CIDR) the result names,
    /// after checking it is configured on eth0 inside the pod.
    pub fn add(&self, plugin: &str, pod: &Pod, config: &Value) -> String {
        let result = self.add_result(plugin, pod, config);
        result["ips"][0]["address"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// ADD through `plugin`, returning the whole CNI result.
    pub fn add_result(&self, plugin: &str, pod: &Pod, config: &Value) -> Value {
        let result = self.call(plugin, "ADD", pod, config).ok();
        let address = result["ips"][0]["address"]
            .as_str()
            .unwrap_or_else(|| panic!("no address in {result}"))
            .to_owned();
        let on_link = pod.netns.addresses("eth0");
        assert!(
            on_link.contains(&address),
            "{address} not on eth0 of {}: {on_link:?}",
            pod.name
        );
        result
    }

    pub fn del(&self, plugin: &str, pod: &Pod, config: &Value) {
        self.call(plugin, "DEL", pod, config).ok();
    }

    /// Runs the `berth` IPAM binary directly (no main plugin), as the
    /// parallel and bad-input scenarios do.
    pub fn ipam(&self, command: &str, container_id: &str, args: &str, config: &Value) -> CniOutput {
        let call = CniCall {
            command,
            container_id,
            netns: None,
            ifname: "eth0",
            args,
        };
        exec(
            &crate::workspace_bin("berth"),
            None,
            &self.cni_path,
            &call,
            config,
        )
    }
}

/// The daemon config of the single-host seed scenario: a 10-address pool
/// and the default policy told that `test-sts-*` pods are stable.
pub fn seed_config(extra_pools: Vec<Value>) -> Value {
    let mut pools = vec![json!({
        "name": "test-ippool",
        "subnet": "10.6.0.0/16",
        "ips": ["10.6.168.101-10.6.168.110"],
        "default": true
    })];
    pools.extend(extra_pools);
    json!({
        "pools": pools,
        "policies": [{
            "name": "sticky",
            "builtin": "sticky-statefulset",
            "settings": { "stableIdentities": [{ "podNamePattern": "test-sts-*" }] },
            "failurePolicy": "Fail"
        }]
    })
}

/// Strips the prefix length: "10.6.168.101/16" → "10.6.168.101".
pub fn bare(cidr: &str) -> &str {
    cidr.split('/').next().unwrap_or(cidr)
}
