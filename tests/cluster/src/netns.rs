//! Network namespaces made by the harness (a node's "host" network, a
//! pod's network), deleted when dropped. Every address the harness
//! configures lives inside one of these, never in the machine's own
//! namespace.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{bail, Context, Result};

/// Makes names unique within this process; the pid makes them unique
/// across test processes running side by side.
static NEXT: AtomicU32 = AtomicU32::new(0);

#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// A new namespace named `bc<pid>-<n>-<hint>` (unique on the machine
    /// while this process lives), with `lo` up.
    pub fn create(hint: &str) -> Result<Self> {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("bc{}-{n}-{hint}", std::process::id());
        run("ip", &["netns", "add", &name])?;
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The path runtimes hand to CNI plugins as `CNI_NETNS`.
    pub fn path(&self) -> String {
        format!("/var/run/netns/{}", self.name)
    }

    /// `ip -n <ns> <args>`; stdout.
    pub fn ip(&self, args: &[&str]) -> Result<String> {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        run("ip", &full)
    }

    /// `command` run inside this namespace (`ip netns exec`).
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]);
        cmd
    }

    /// The global-scope addresses on `ifname`, without prefix length; an
    /// error if the interface is missing.
    pub fn addresses(&self, ifname: &str) -> Result<Vec<String>> {
        let out = self.ip(&["-j", "addr", "show", "dev", ifname])?;
        let parsed: serde_json::Value =
            serde_json::from_str(&out).with_context(|| format!("ip -j output {out:?}"))?;
        let mut found = Vec::new();
        for link in parsed.as_array().into_iter().flatten() {
            for info in link["addr_info"].as_array().into_iter().flatten() {
                if info["scope"] == "link" {
                    continue;
                }
                if let Some(local) = info["local"].as_str() {
                    found.push(local.to_string());
                }
            }
        }
        Ok(found)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace takes every interface in it along (a
        // pod's veth end, a node's bridge); the peer ends go with them.
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// Runs `program args` and returns its stdout; an error with stderr if it
/// fails.
pub fn run(program: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("running {program}"))?;
    if !out.status.success() {
        bail!(
            "{program} {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
