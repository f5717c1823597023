//! berthd for the stand-in run: the release image's binary, run
//! directly (the stand-in listens on this machine's loopback, so no node
//! namespace is needed for it), with the berthd.json the chart renders.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use berth_cluster::{helper_binary, Helm};
use serde_json::Value;

use crate::workloads::POOL;

pub struct Berthd {
    pub child: Child,
    socket: PathBuf,
    binary: PathBuf,
}

impl Drop for Berthd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// berthd.json as `helm template` renders the chart's ConfigMap with the
/// default values (the JSON block under `berthd.json: |`).
pub fn chart_config(scratch: &Path) -> Result<Value> {
    let kubeconfig = scratch.join("no-cluster.kubeconfig");
    std::fs::write(&kubeconfig, "")?;
    let yaml = Helm::V3.run(
        &kubeconfig,
        &scratch.join("helm"),
        &[
            "template",
            "berth",
            berth_cluster::CHART,
            "-n",
            berth_cluster::NAMESPACE,
            "--show-only",
            "templates/configmap.yaml",
        ],
    )?;
    let mut lines = yaml
        .lines()
        .skip_while(|l| l.trim() != "berthd.json: |")
        .skip(1);
    let first = lines
        .next()
        .context("no berthd.json in the rendered ConfigMap")?;
    let indent = first.len() - first.trim_start().len();
    let json: String = std::iter::once(first)
        .chain(lines.take_while(|l| l.len() > indent && l[..indent].trim().is_empty()))
        .map(|l| &l[indent..])
        .collect::<Vec<_>>()
        .join("\n");
    serde_json::from_str(&json).context("the rendered berthd.json")
}

pub fn start_berthd(
    binary: &Path,
    config: &Path,
    node: &str,
    socket: &Path,
    dir: &Path,
) -> Result<Berthd> {
    let log = std::fs::File::create(dir.join("berthd.log"))?;
    let child = Command::new(binary)
        .args(["serve", "--config"])
        .arg(config)
        .args(["--log-format", "json"])
        .env_clear()
        .env("BERTH_NODE_NAME", node)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    Ok(Berthd {
        child,
        socket: socket.to_path_buf(),
        binary: binary.to_path_buf(),
    })
}

pub async fn wait_pool_known(berthd: &Berthd) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = Command::new(&berthd.binary)
            .args(["pools", "--socket"])
            .arg(&berthd.socket)
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        if text
            .lines()
            .any(|l| l.split_whitespace().next() == Some(POOL))
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "berthd does not know pool {POOL}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub fn berthd_metrics(address: &str) -> Result<String> {
    let out = Command::new(helper_binary()?)
        .args(["http-body", address, "/metrics"])
        .output()?;
    if !out.status.success() {
        bail!(
            "GET {address}/metrics: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
