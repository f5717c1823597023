//! One node of a test cluster: its `Node` object, a network namespace as
//! its host network, its path to the API server, the chart's DaemonSet
//! pod (berthd and its init containers, run from the image) and a test
//! kubelet. Everything a node writes lives in its own dir: the chart's
//! hostPath directories map to `<dir>/host/...`, so each node has its own
//! socket, data and CNI bin dirs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Pod;
use kube::api::PostParams;
use kube::Api;
use serde_json::json;
use tokio::task::JoinHandle;

use crate::api_forward::ApiForward;
use crate::container::ContainerSpec;
use crate::control_plane::ControlPlane;
use crate::daemonset::{self, PodContext, Readiness};
use crate::helper::helper_binary;
use crate::image::Image;
use crate::kubelet::{volumes, CniRuntime, Kubelet, KubeletConfig, Network};
use crate::netns::Netns;
use crate::process::{log_tail, Process};

const INIT_TIMEOUT: Duration = Duration::from_secs(60);
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How often ConfigMap volumes are refreshed (a real kubelet takes up to
/// a minute; the tests want `helm upgrade` to land quickly).
const VOLUME_SYNC: Duration = Duration::from_millis(500);
/// The uplink a node's secondary (macvlan) network hangs off.
pub const UPLINK: &str = "uplink0";

/// The node's name and labels.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    pub name: String,
    pub labels: Vec<(String, String)>,
}

/// The chart's DaemonSet pod on one node, as the node runs it.
struct DaemonPod {
    berthd: ContainerSpec,
    readiness: Option<Readiness>,
    process: Option<Process>,
    log: PathBuf,
}

pub struct ClusterNode {
    pub name: String,
    pub dir: PathBuf,
    pub host_ip: String,
    /// The chart's DaemonSet pod object on this node.
    pub daemon_pod_name: String,
    // Drop order: the kubelet, then berthd, then what they use.
    kubelet: Option<Kubelet>,
    daemon: Mutex<DaemonPod>,
    volume_sync: JoinHandle<()>,
    _api: ApiForward,
    image: Arc<Image>,
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

        let pod = create_daemon_pod(cp, ctx.daemon_set, &name).await?;
        let pod_name = pod.metadata.name.clone().context("daemon pod name")?;
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let pod_spec = daemonset::pod_spec(ctx.daemon_set)?;
        let account = pod_spec
            .service_account_name
            .clone()
            .unwrap_or_else(|| "default".into());

        let sa_dir = dir.join("serviceaccount");
        std::fs::create_dir_all(&sa_dir)?;
        let token = cp
            .token_for_pod(
                &namespace,
                &account,
                &pod_name,
                pod.metadata.uid.as_deref().unwrap_or_default(),
            )
            .await?;
        std::fs::write(sa_dir.join("token"), token)?;
        std::fs::copy(cp.ca_cert(), sa_dir.join("ca.crt"))?;
        std::fs::write(sa_dir.join("namespace"), &namespace)?;

        let volumes_dir = dir.join("volumes");
        let client = cp.client().await?;
        sync_volumes(&client, &namespace, pod_spec, &volumes_dir).await?;
        let volume_sync = {
            let (client, namespace, spec, dir) = (
                client.clone(),
                namespace.clone(),
                pod_spec.clone(),
                volumes_dir.clone(),
            );
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(VOLUME_SYNC).await;
                    if let Err(e) = sync_volumes(&client, &namespace, &spec, &dir).await {
                        eprintln!("berth-cluster: volume sync on {}: {e:#}", dir.display());
                    }
                }
            })
        };

        let host_root = dir.join("host");
        let pod_ctx = PodContext {
            node_name: name.clone(),
            pod_name: pod_name.clone(),
            namespace: namespace.clone(),
            host_ip: host_ip.clone(),
            host_root: host_root.clone(),
            volumes_dir,
            service_account_dir: sa_dir,
            api_host: api.ip().to_string(),
            api_port: api.port(),
        };
        let resolved = daemonset::resolve(pod_spec, &ctx.image, &pod_ctx)?;
        for init in &resolved.init_containers {
            run_to_completion(init, &ctx.image, &host_ns, &dir).await?;
        }
        let [(berthd, readiness)]: [(ContainerSpec, Option<Readiness>); 1] =
            resolved.containers.try_into().map_err(|c: Vec<_>| {
                anyhow::anyhow!(
                    "the DaemonSet pod has {} containers, expected berthd alone",
                    c.len()
                )
            })?;
        let mut node = ClusterNode {
            name: name.clone(),
            dir: dir.clone(),
            host_ip: host_ip.clone(),
            daemon_pod_name: pod_name,
            kubelet: None,
            daemon: Mutex::new(DaemonPod {
                berthd,
                readiness,
                process: None,
                log: dir.join("berthd.log"),
            }),
            volume_sync,
            _api: api_forward,
            image: ctx.image.clone(),
            host_ns,
        };
        node.start_berthd().await?;

        let socket_dir = host_dir_of(pod_spec, "socket-dir", &host_root)?;
        let bin_dir = host_dir_of(pod_spec, "cni-bin", &host_root)?;
        let ipam = json!({ "type": "berth", "socket": socket_dir.join("berth.sock") });
        let kubelet = Kubelet::start(
            client,
            KubeletConfig {
                node: name,
                host_ip,
                runtime: CniRuntime {
                    bin_dir,
                    host_ns: node.host_ns.name().to_string(),
                },
                primary: Network {
                    config: json!({
                        "cniVersion": crate::kubelet::CNI_VERSION,
                        "name": "berth-bridge",
                        "type": "bridge",
                        // No isGateway: it would give cni0 the first
                        // pool's gateway and refuse pods of any other
                        // subnet ("cni0 already has an IP address").
                        "bridge": "cni0",
                        "ipam": ipam,
                    }),
                },
                secondary: Some(Network {
                    config: json!({
                        "cniVersion": crate::kubelet::CNI_VERSION,
                        "name": "berth-macvlan",
                        "type": "macvlan",
                        "master": UPLINK,
                        "mode": "bridge",
                        "ipam": ipam,
                    }),
                }),
                log: dir.join("kubelet.log"),
            },
        )?;
        node.kubelet = Some(kubelet);
        Ok(node)
    }

    pub fn kubelet(&self) -> &Kubelet {
        self.kubelet
            .as_ref()
            .expect("the kubelet runs from start to drop")
    }

    fn daemon(&self) -> std::sync::MutexGuard<'_, DaemonPod> {
        self.daemon.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts berthd as the DaemonSet's container (again, after a kill)
    /// and waits for its readiness probe.
    pub async fn start_berthd(&self) -> Result<()> {
        let (spec, readiness, log) = {
            let daemon = self.daemon();
            if daemon.process.is_some() {
                bail!("berthd already runs on {}", self.name);
            }
            (
                daemon.berthd.clone(),
                daemon.readiness.clone(),
                daemon.log.clone(),
            )
        };
        let command = spec.command(&self.image.rootfs, &self.host_ns)?;
        let process = Process::spawn_appending("berthd", command, &log)?;
        self.daemon().process = Some(process);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(process) = self.daemon().process.as_mut() {
                process.check_running()?;
            }
            if let Some(probe) = &readiness {
                if self.probe(probe).await? {
                    return Ok(());
                }
            } else {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "berthd on {} is not ready after {READY_TIMEOUT:?}:\n{}",
                    self.name,
                    log_tail(&log)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILLs berthd (a crash, or the OOM killer); the PID it had.
    pub fn kill_berthd(&self) -> Result<u32> {
        let mut process = self
            .daemon()
            .process
            .take()
            .context("berthd is not running")?;
        let pid = process.pid();
        process.kill()?;
        Ok(pid)
    }

    /// berthd's PID while it runs.
    pub fn berthd_pid(&self) -> Option<u32> {
        self.daemon().process.as_ref().map(Process::pid)
    }

    /// An error if berthd has exited.
    pub fn check_berthd(&self) -> Result<()> {
        match self.daemon().process.as_mut() {
            Some(p) => p.check_running(),
            None => bail!("berthd on {} was stopped", self.name),
        }
    }

    /// Every line berthd has logged on this node, over all its runs.
    pub fn berthd_log(&self) -> Result<String> {
        let path = self.daemon().log.clone();
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    }

    pub fn berthd_log_path(&self) -> PathBuf {
        self.daemon().log.clone()
    }

    /// The node's "host" network namespace.
    pub fn host_ns(&self) -> &Netns {
        &self.host_ns
    }

    async fn probe(&self, probe: &Readiness) -> Result<bool> {
        match probe {
            Readiness::HttpGet { host, port, path } => {
                let mut cmd = self.host_ns.command(&helper_binary()?.to_string_lossy());
                cmd.args(["http-get", &format!("{host}:{port}"), path]);
                Ok(tokio::task::spawn_blocking(move || cmd.output())
                    .await??
                    .status
                    .success())
            }
            Readiness::Exec(spec) => {
                let mut cmd = spec.command(&self.image.rootfs, &self.host_ns)?;
                Ok(tokio::task::spawn_blocking(move || cmd.output())
                    .await??
                    .status
                    .success())
            }
        }
    }

    /// Stops the node as if it died: the kubelet and berthd stop at once
    /// (no DEL), its pods' namespaces go.
    pub fn halt(&mut self) {
        self.kubelet = None;
        if let Some(mut p) = self.daemon().process.take() {
            let _ = p.kill();
        }
        self.volume_sync.abort();
    }
}

impl Drop for ClusterNode {
    fn drop(&mut self) {
        self.halt();
    }
}

/// The node path behind the DaemonSet's hostPath volume `volume`.
fn host_dir_of(
    spec: &k8s_openapi::api::core::v1::PodSpec,
    volume: &str,
    host_root: &Path,
) -> Result<PathBuf> {
    let path = spec
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name == volume)
        .and_then(|v| v.host_path.as_ref())
        .map(|h| h.path.clone())
        .with_context(|| format!("the DaemonSet has no hostPath volume {volume}"))?;
    Ok(daemonset::host_path(host_root, &path))
}

/// Syncs every ConfigMap-backed volume of `spec` into `dir/<volume>`.
async fn sync_volumes(
    client: &kube::Client,
    namespace: &str,
    spec: &k8s_openapi::api::core::v1::PodSpec,
    dir: &Path,
) -> Result<()> {
    for volume in spec.volumes.iter().flatten() {
        if volume.config_map.is_none() && volume.projected.is_none() {
            continue;
        }
        let files = volumes::volume_files(client, namespace, volume).await?;
        volumes::write_atomically(&dir.join(&volume.name), &files)?;
    }
    Ok(())
}

/// Runs an init container to completion; an error with its output if it
/// fails.
async fn run_to_completion(
    spec: &ContainerSpec,
    image: &Image,
    ns: &Netns,
    dir: &Path,
) -> Result<()> {
    let mut cmd = spec.command(&image.rootfs, ns)?;
    let log = dir.join(format!("{}.log", spec.name));
    let out = tokio::time::timeout(
        INIT_TIMEOUT,
        tokio::task::spawn_blocking(move || cmd.output()),
    )
    .await
    .with_context(|| {
        format!(
            "init container {} did not finish in {INIT_TIMEOUT:?}",
            spec.name
        )
    })???;
    std::fs::write(
        &log,
        [out.stdout.as_slice(), out.stderr.as_slice()].concat(),
    )?;
    if !out.status.success() {
        bail!(
            "init container {} failed ({}):\n{}{}",
            spec.name,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Creates the DaemonSet's pod for `node` as the DaemonSet controller
/// would (owned by the DaemonSet, already bound to the node).
async fn create_daemon_pod(cp: &ControlPlane, ds: &DaemonSet, node: &str) -> Result<Pod> {
    let namespace = ds.metadata.namespace.clone().unwrap_or_default();
    let ds_name = ds.metadata.name.clone().unwrap_or_default();
    let template = &ds.spec.template;
    let mut spec = template.spec.clone().context("DaemonSet pod spec")?;
    spec.node_name = Some(node.to_string());
    let mut meta = template.metadata.clone().unwrap_or_default();
    meta.generate_name = Some(format!("{ds_name}-"));
    meta.namespace = Some(namespace.clone());
    meta.owner_references = Some(vec![
        k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "apps/v1".into(),
            kind: "DaemonSet".into(),
            name: ds_name,
            uid: ds.metadata.uid.clone().unwrap_or_default(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        },
    ]);
    let pod = Pod {
        metadata: meta,
        spec: Some(spec),
        status: None,
    };
    Api::<Pod>::namespaced(cp.client().await?, &namespace)
        .create(&PostParams::default(), &pod)
        .await
        .with_context(|| format!("creating the DaemonSet pod for {node}"))
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
