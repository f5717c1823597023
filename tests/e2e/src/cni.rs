//! Exec'ing a CNI plugin the way a container runtime does.

use crate::netns::Netns;
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

pub struct CniCall<'a> {
    pub command: &'a str,
    pub container_id: &'a str,
    /// Namespace of the container; `None` for verbs that need none.
    pub netns: Option<&'a Netns>,
    pub ifname: &'a str,
    pub args: &'a str,
}

pub struct CniOutput {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl CniOutput {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "plugin output is not JSON ({e}): {}\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The CNI error code of a failed call.
    pub fn code(&self) -> u64 {
        assert!(!self.success, "expected a failure, got {}", self.stdout);
        self.json()["code"].as_u64().expect("error code")
    }

    pub fn ok(self) -> Value {
        assert!(
            self.success,
            "plugin failed: {}\n{}",
            self.stdout, self.stderr
        );
        if self.stdout.trim().is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }
}

/// Runs `plugin` (a path) with `config` on stdin, inside `host_ns` when
/// given, with `bin_path` as CNI_PATH (where it finds `berth`).
pub fn exec(
    plugin: &Path,
    host_ns: Option<&Netns>,
    bin_path: &str,
    call: &CniCall,
    config: &Value,
) -> CniOutput {
    exec_with_env(plugin, host_ns, bin_path, call, config, &[])
}

/// [`exec`] with `extra` variables in the plugin's environment.
pub fn exec_with_env(
    plugin: &Path,
    host_ns: Option<&Netns>,
    bin_path: &str,
    call: &CniCall,
    config: &Value,
    extra: &[(&str, &str)],
) -> CniOutput {
    let mut cmd = match host_ns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", &ns.name]).arg(plugin);
            c
        }
        None => Command::new(plugin),
    };
    cmd.env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("CNI_COMMAND", call.command)
        .env("CNI_CONTAINERID", call.container_id)
        .env("CNI_IFNAME", call.ifname)
        .env("CNI_PATH", bin_path)
        .env("CNI_ARGS", call.args)
        .envs(extra.iter().copied());
    match call.netns {
        Some(ns) => {
            cmd.env("CNI_NETNS", ns.path());
        }
        // An IPAM plugin run on its own never enters the namespace, but
        // the spec has the runtime name one for ADD and CHECK.
        None if matches!(call.command, "ADD" | "CHECK") => {
            cmd.env("CNI_NETNS", "/var/run/netns/berth-ipam-only");
        }
        None => {}
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("exec {}: {e}", plugin.display()));
    let body = serde_json::to_vec(config).expect("config json");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&body)
        .expect("write stdin");
    let out = child.wait_with_output().expect("plugin output");
    CniOutput {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// CNI_ARGS for a Kubernetes-style pod.
pub fn pod_args(namespace: &str, name: &str, uid: &str) -> String {
    format!("IgnoreUnknown=1;K8S_POD_NAMESPACE={namespace};K8S_POD_NAME={name};K8S_POD_UID={uid}")
}
