//! The container runtime's side of CNI: exec a plugin with the network
//! config on stdin and the `CNI_*` environment, inside the node's network
//! namespace (where the bridge and the node's end of each veth live).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::netns::Netns;

/// The Debian plugins (bridge, macvlan ...).
pub const SYSTEM_PLUGIN_DIR: &str = "/usr/lib/cni";
/// The version the runtime speaks to the Debian plugins (their newest).
pub const CNI_VERSION: &str = "1.0.0";
/// GC is CNI 1.1; it goes to the `berth` binary directly.
pub const GC_VERSION: &str = "1.1.0";

/// One network a pod can be attached to: the plugin config, as it would
/// sit in a node's /etc/cni/net.d or in a NetworkAttachmentDefinition.
#[derive(Debug, Clone)]
pub struct Network {
    pub config: Value,
}

impl Network {
    pub fn name(&self) -> &str {
        self.config["name"].as_str().unwrap_or_default()
    }

    fn plugin_type(&self) -> &str {
        self.config["type"].as_str().unwrap_or_default()
    }
}

/// A node's CNI setup: where plugins are found and the namespace they run
/// in.
#[derive(Debug, Clone)]
pub struct CniRuntime {
    /// The node's CNI bin dir, where the chart's init container put `berth`.
    pub bin_dir: PathBuf,
    pub host_ns: String,
}

/// One plugin call.
pub struct Call<'a> {
    pub command: &'a str,
    pub container_id: &'a str,
    pub netns: Option<&'a Netns>,
    pub ifname: &'a str,
    pub cni_args: &'a str,
}

impl CniRuntime {
    /// `CNI_PATH`: the node's bin dir first, as on a real node.
    pub fn cni_path(&self) -> String {
        format!("{}:{SYSTEM_PLUGIN_DIR}", self.bin_dir.display())
    }

    fn find(&self, plugin: &str) -> Result<PathBuf> {
        [self.bin_dir.as_path(), Path::new(SYSTEM_PLUGIN_DIR)]
            .iter()
            .map(|dir| dir.join(plugin))
            .find(|p| p.is_file())
            .with_context(|| format!("no CNI plugin {plugin:?} in {}", self.cni_path()))
    }

    /// Runs the network's main plugin; the parsed result (or `null` for an
    /// empty answer), or an error carrying the plugin's CNI error.
    pub fn exec(
        &self,
        network: &Network,
        call: &Call,
        extra: Option<(&str, Value)>,
    ) -> Result<Value> {
        let mut config = network.config.clone();
        if let Some((key, value)) = extra {
            config[key] = value;
        }
        self.exec_plugin(&self.find(network.plugin_type())?, call, &config)
    }

    /// CNI GC (1.1) straight to the IPAM plugin: the network's config with
    /// `cni.dev/valid-attachments`. The Debian plugins stop at CNI 1.0, so
    /// a runtime's GC of them would never reach `berth`.
    pub fn gc(&self, network: &Network, valid: &[(String, String)]) -> Result<Value> {
        let mut config = network.config.clone();
        config["cniVersion"] = json!(GC_VERSION);
        config["cni.dev/valid-attachments"] = valid
            .iter()
            .map(|(container_id, ifname)| json!({ "containerID": container_id, "ifname": ifname }))
            .collect();
        let ipam = config["ipam"]["type"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let call = Call {
            command: "GC",
            container_id: "",
            netns: None,
            ifname: "",
            cni_args: "",
        };
        self.exec_plugin(&self.find(&ipam)?, &call, &config)
    }

    fn exec_plugin(&self, plugin: &Path, call: &Call, config: &Value) -> Result<Value> {
        // By absolute path: with a program to look up in a changed PATH,
        // std falls back from posix_spawn to fork, which copies this
        // (large, many-threaded) process's page tables for every call.
        let mut cmd = Command::new(ip_binary()?);
        cmd.args(["netns", "exec", &self.host_ns])
            .arg(plugin)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("CNI_COMMAND", call.command)
            .env("CNI_PATH", self.cni_path());
        if !call.container_id.is_empty() {
            cmd.env("CNI_CONTAINERID", call.container_id)
                .env("CNI_IFNAME", call.ifname)
                .env("CNI_ARGS", call.cni_args);
        }
        if let Some(ns) = call.netns {
            cmd.env("CNI_NETNS", ns.path());
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("exec {}", plugin.display()))?;
        child
            .stdin
            .take()
            .context("plugin stdin")?
            .write_all(&serde_json::to_vec(config)?)?;
        let out = child.wait_with_output()?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            bail!(
                "{} {} failed ({}): {} {}",
                plugin.display(),
                call.command,
                out.status,
                stdout.trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        if stdout.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&stdout).with_context(|| format!("plugin output {stdout:?}"))
    }
}

/// The `ip` binary, found once.
fn ip_binary() -> Result<&'static Path> {
    static IP: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    IP.get_or_init(|| {
        ["/usr/sbin/ip", "/usr/bin/ip", "/sbin/ip", "/bin/ip"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
    })
    .as_deref()
    .context("iproute2's ip is not installed")
}

/// `CNI_ARGS` as the kubelet (dockershim/CRI) passes them.
pub fn pod_args(namespace: &str, name: &str, uid: &str, container_id: &str) -> String {
    format!(
        "IgnoreUnknown=1;K8S_POD_NAMESPACE={namespace};K8S_POD_NAME={name};K8S_POD_INFRA_CONTAINER_ID={container_id};K8S_POD_UID={uid}"
    )
}

/// The addresses (without prefix) of a CNI result.
pub fn result_ips(result: &Value) -> Vec<String> {
    result["ips"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|ip| ip["address"].as_str())
        .map(|a| a.split('/').next().unwrap_or(a).to_string())
        .collect()
}
