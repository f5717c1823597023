//! One node of a test cluster: its `Node` object, a network namespace as
//! its host network (with an uplink for macvlan), its path to the API
//! server, the chart's DaemonSet pod and a test kubelet. Everything a node
//! writes lives in its own dir: the chart's hostPath directories map to
//! `<dir>/host/...`, so each node has its own socket, data and CNI bin
//! dirs, and its CNI config names its own berthd's socket.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use k8s_openapi::api::apps::v1::DaemonSet;
use serde_json::json;

use crate::api_forward::ApiForward;
use crate::control_plane::ControlPlane;
use crate::daemon_pod::{host_dir_of, DaemonPod, Placement};
use crate::daemonset;
use crate::image::Image;
use crate::kubelet::{CniRuntime, Kubelet, KubeletConfig, Network, CNI_VERSION};
use crate::netns::Netns;
use crate::process::log_tail;

/// The port of berthd's metrics endpoint (the chart's `metrics.port`).
pub const METRICS_PORT: u16 = 9464;

/// The uplink a node's secondary (macvlan) network hangs off.
pub const UPLINK: &str = "uplink0";

/// The node's name and labels.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    pub name: String,
    pub labels: Vec<(String, String)>,
}

pub struct ClusterNode {
    pub name: String,
    pub dir: PathBuf,
    pub host_ip: String,
    // Drop order: the kubelet, then berthd, then what they use.
    kubelet: Option<Kubelet>,
    daemon: DaemonPod,
    _api: ApiForward,
    host_ns: Netns,
}

/// What a node needs from the cluster to start.
pub struct NodeStart<'a> {
    pub control_plane: &'a ControlPlane,
    pub image: Arc<Image>,
    pub daemon_set: &'a DaemonSet,
    pub index: usize,
}

impl ClusterNode {
    pub async fn start(spec: &NodeSpec, ctx: NodeStart<'_>) -> Result<Self> {
        let cp = ctx.control_plane;
        let name = spec.name.clone();
        let dir = cp.dir().join("nodes").join(&name);
        std::fs::create_dir_all(&dir)?;
        let host_ip = format!("10.250.0.{}", ctx.index + 1);
        let labels: Vec<(&str, &str)> = spec
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        cp.create_node_with_ip(&name, &labels, &host_ip).await?;

        let host_ns = Netns::create(&name)?;
        host_ns.ip(&[
            "link", "add", UPLINK, "type", "veth", "peer", "name", "uplink0p",
        ])?;
        for link in [UPLINK, "uplink0p"] {
            host_ns.ip(&["link", "set", link, "up"])?;
        }
        host_ns.ip(&["addr", "add", &format!("{host_ip}/24"), "dev", UPLINK])?;

        let api: SocketAddr = cp
            .server_url()
            .trim_start_matches("https://")
            .parse()
            .context("the API server URL")?;
        let api_forward = ApiForward::start(&host_ns, api, &dir)?;
        wait_listening(&dir.join("netns-proxy.log")).await?;

        let placement = Placement {
            node: &name,
            host_ip: &host_ip,
            dir: &dir,
            host_ns: &host_ns,
            api,
        };
        let daemon = DaemonPod::create(cp, ctx.daemon_set, ctx.image.clone(), placement).await?;
        daemon
            .start(&host_ns)
            .await
            .with_context(|| format!("berthd on {name}"))?;

        let pod_spec = daemonset::pod_spec(ctx.daemon_set)?;
        let host_root = dir.join("host");
        let socket = host_dir_of(pod_spec, "socket-dir", &host_root)?.join("berth.sock");
        let (primary, secondary) = pod_networks(&socket);
        let kubelet = Kubelet::start(
            cp.client().await?,
            KubeletConfig {
                node: name.clone(),
                host_ip: host_ip.clone(),
                runtime: CniRuntime {
                    bin_dir: host_dir_of(pod_spec, "cni-bin", &host_root)?,
                    host_ns: host_ns.name().to_string(),
                },
                primary,
                secondary: Some(secondary),
                log: dir.join("kubelet.log"),
            },
        )?;
        Ok(ClusterNode {
            name,
            dir,
            host_ip,
            kubelet: Some(kubelet),
            daemon,
            _api: api_forward,
            host_ns,
        })
    }

    pub fn kubelet(&self) -> &Kubelet {
        self.kubelet
            .as_ref()
            .expect("the kubelet runs until the node halts")
    }

    /// The name of the chart's DaemonSet pod on this node.
    pub fn daemon_pod_name(&self) -> &str {
        &self.daemon.name
    }

    /// Starts berthd again (after [`Self::kill_berthd`]) and waits until
    /// it is ready.
    pub async fn start_berthd(&self) -> Result<()> {
        self.daemon.start(&self.host_ns).await
    }

    /// berthd's Prometheus metrics (its `/metrics`, read inside the node).
    pub async fn berthd_metrics(&self) -> Result<String> {
        self.daemon.metrics(&self.host_ns).await
    }

    /// SIGKILLs berthd (a crash, or the OOM killer); the PID it had.
    pub fn kill_berthd(&self) -> Result<u32> {
        self.daemon.kill()
    }

    /// berthd's PID while it runs.
    pub fn berthd_pid(&self) -> Option<u32> {
        self.daemon.pid()
    }

    /// An error if berthd has exited.
    pub fn check_berthd(&self) -> Result<()> {
        self.daemon
            .check()
            .with_context(|| format!("on {}", self.name))
    }

    /// `berthd <args> --socket ...` run in the berthd container (like
    /// `kubectl exec`); stdout.
    pub async fn berthd_cli(&self, args: &[&str]) -> Result<String> {
        self.daemon.cli(&self.host_ns, args).await
    }

    /// Every line berthd has logged on this node, over all its runs.
    pub fn berthd_log(&self) -> Result<String> {
        let path = self.daemon.log_path();
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    }

    /// Every line the test kubelet logged (its ADD and DEL failures, with
    /// the CNI error).
    pub fn kubelet_log(&self) -> Result<String> {
        let path = self.dir.join("kubelet.log");
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    }

    pub fn berthd_log_path(&self) -> &Path {
        self.daemon.log_path()
    }

    /// berthd's `/metrics` (Prometheus text), fetched inside the node's
    /// network as the chart's probe reaches it.
    pub async fn metrics(&self) -> Result<String> {
        let mut cmd = self
            .host_ns
            .command(&crate::helper::helper_binary()?.to_string_lossy());
        cmd.args([
            "http-get",
            &format!("{}:{METRICS_PORT}", self.host_ip),
            "/metrics",
        ]);
        let out = tokio::task::spawn_blocking(move || cmd.output()).await??;
        if !out.status.success() {
            bail!(
                "GET /metrics on {}: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let text = String::from_utf8_lossy(&out.stdout);
        // The helper prints the status line first.
        Ok(text
            .split_once('\n')
            .map_or("", |(_, body)| body)
            .to_owned())
    }

    /// The value of the metrics sample `series` (e.g.
    /// `berth_releases_total{cause="zombie"}`), 0 when absent.
    pub async fn metric(&self, series: &str) -> Result<u64> {
        let text = self.metrics().await?;
        let value = text
            .lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .map(|v| v.trim().parse::<u64>())
            .transpose()
            .with_context(|| format!("{series} on {}", self.name))?;
        Ok(value.unwrap_or(0))
    }

    /// The node's "host" network namespace.
    pub fn host_ns(&self) -> &Netns {
        &self.host_ns
    }

    /// Stops the node as if it died: the kubelet and berthd stop at once
    /// (no DEL), its pods' namespaces go.
    pub fn halt(&mut self) {
        self.kubelet = None;
        self.daemon.stop();
    }
}

impl Drop for ClusterNode {
    fn drop(&mut self) {
        self.halt();
    }
}

/// The node's two networks, both with `"ipam": {"type": "berth"}` naming
/// this node's berthd socket: the pod network (bridge, eth0) and a
/// secondary macvlan network on the node's uplink (net1).
pub fn pod_networks(socket: &Path) -> (Network, Network) {
    let ipam = json!({ "type": "berth", "socket": socket });
    let bridge = json!({
        "cniVersion": CNI_VERSION,
        "name": "berth-bridge",
        "type": "bridge",
        // No isGateway: it would give cni0 the first pool's gateway and
        // refuse pods of any other subnet ("cni0 already has an IP
        // address"); it would also switch on forwarding in the node.
        "bridge": "cni0",
        "ipam": ipam,
    });
    let macvlan = json!({
        "cniVersion": CNI_VERSION,
        "name": "berth-macvlan",
        "type": "macvlan",
        "master": UPLINK,
        "mode": "bridge",
        "ipam": ipam,
    });
    (Network { config: bridge }, Network { config: macvlan })
}

/// Waits until the netns proxy says it listens.
async fn wait_listening(log: &Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if std::fs::read_to_string(log)
            .unwrap_or_default()
            .contains("listening")
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the API proxy did not start:\n{}", log_tail(log))
}
