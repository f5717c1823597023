//! Network namespaces made for a test and removed when dropped.

use std::process::Command;

pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(prefix: &str) -> Self {
        let name = crate::unique(prefix);
        run("ip", &["netns", "add", &name]);
        run("ip", &["-n", &name, "link", "set", "lo", "up"]);
        Self { name }
    }

    pub fn path(&self) -> String {
        format!("/var/run/netns/{}", self.name)
    }

    /// Runs `ip` inside this namespace and returns stdout.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        run("ip", &full)
    }

    /// IPv4/IPv6 addresses (CIDR form) on `ifname` inside this namespace.
    pub fn addresses(&self, ifname: &str) -> Vec<String> {
        let out = self.ip(&["-j", "addr", "show", "dev", ifname]);
        let parsed: serde_json::Value = serde_json::from_str(&out).expect("ip -j output");
        let mut found = Vec::new();
        for link in parsed.as_array().into_iter().flatten() {
            for info in link["addr_info"].as_array().into_iter().flatten() {
                if info["scope"] == "link" {
                    continue;
                }
                if let (Some(local), Some(len)) =
                    (info["local"].as_str(), info["prefixlen"].as_u64())
                {
                    found.push(format!("{local}/{len}"));
                }
            }
        }
        found
    }

    pub fn has_link(&self, ifname: &str) -> bool {
        Command::new("ip")
            .args(["-n", &self.name, "link", "show", "dev", ifname])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Best effort: a namespace that is already gone is what we want.
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

pub fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} {args:?}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
