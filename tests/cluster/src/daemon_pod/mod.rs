//! The chart's DaemonSet pod on one node, run as a kubelet runs it: a Pod
//! object owned by the DaemonSet (what the DaemonSet controller would
//! create), a token for the chart's ServiceAccount bound to that pod and
//! mounted where the kubelet mounts it, the ConfigMap volume kept in sync,
//! the init containers run to completion, then berthd from the image with
//! the container's command, env and mounts, gated by its readiness probe.
//! A killed berthd is started again the way a kubelet restarts a crashed
//! container: same command and volumes, no init containers.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::Api;
use tokio::task::JoinHandle;

mod setup;

pub use setup::host_dir_of;
use setup::{berthd_socket, create_pod_object, run_to_completion, sync_volumes};

use crate::container::ContainerSpec;
use crate::control_plane::ControlPlane;
use crate::daemonset::{self, PodContext, Readiness};
use crate::helper::helper_binary;
use crate::image::Image;
use crate::netns::Netns;
use crate::process::{log_tail, Process};

const READY_TIMEOUT: Duration = Duration::from_secs(60);

pub struct DaemonPod {
    /// The Pod object's name.
    pub name: String,
    berthd: ContainerSpec,
    readiness: Option<Readiness>,
    /// berthd's socket as the container sees it.
    socket: String,
    image: Arc<Image>,
    log: PathBuf,
    process: Mutex<Option<Process>>,
    volume_sync: JoinHandle<()>,
}

/// Where the pod runs.
pub struct Placement<'a> {
    pub node: &'a str,
    pub host_ip: &'a str,
    /// The node's dir: hostPath volumes live under `<dir>/host`.
    pub dir: &'a Path,
    pub host_ns: &'a Netns,
    pub api: SocketAddr,
}

impl DaemonPod {
    /// Creates the pod and runs its init containers; berthd is not
    /// started yet.
    pub async fn create(
        cp: &ControlPlane,
        ds: &DaemonSet,
        image: Arc<Image>,
        at: Placement<'_>,
    ) -> Result<Self> {
        let pod = create_pod_object(cp, ds, at.node).await?;
        let name = pod.metadata.name.clone().context("daemon pod name")?;
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let spec = daemonset::pod_spec(ds)?;
        let account = spec
            .service_account_name
            .clone()
            .unwrap_or_else(|| "default".into());

        let sa_dir = at.dir.join("serviceaccount");
        std::fs::create_dir_all(&sa_dir)?;
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let token = cp.token_for_pod(&namespace, &account, &name, &uid).await?;
        std::fs::write(sa_dir.join("token"), token)?;
        std::fs::copy(cp.ca_cert(), sa_dir.join("ca.crt"))?;
        std::fs::write(sa_dir.join("namespace"), &namespace)?;

        let volumes_dir = at.dir.join("volumes");
        let client = cp.client().await?;
        sync_volumes(&client, &namespace, spec, &volumes_dir).await?;
        // ConfigMap volumes are refreshed on every change of a ConfigMap
        // in the pod's namespace (a watch, as the kubelet's watch-based
        // ConfigMap manager): `helm upgrade` lands within moments, and
        // nothing is read while nothing changes.
        let volume_sync = {
            let (spec, dir) = (spec.clone(), volumes_dir.clone());
            let api: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
            let namespace = namespace.clone();
            tokio::spawn(async move {
                let events = watcher::watcher(api, watcher::Config::default()).default_backoff();
                let mut events = std::pin::pin!(events);
                while let Some(event) = events.next().await {
                    let changed = match event {
                        Ok(Event::Apply(_) | Event::Delete(_) | Event::InitDone) => true,
                        Ok(_) => false,
                        Err(e) => {
                            eprintln!("berth-cluster: ConfigMap watch for {}: {e}", dir.display());
                            false
                        }
                    };
                    if !changed {
                        continue;
                    }
                    if let Err(e) = sync_volumes(&client, &namespace, &spec, &dir).await {
                        eprintln!("berth-cluster: volume sync of {}: {e:#}", dir.display());
                    }
                }
            })
        };

        let context = PodContext {
            node_name: at.node.to_string(),
            pod_name: name.clone(),
            namespace,
            host_ip: at.host_ip.to_string(),
            host_root: at.dir.join("host"),
            volumes_dir,
            service_account_dir: sa_dir,
            api_host: at.api.ip().to_string(),
            api_port: at.api.port(),
        };
        let resolved = daemonset::resolve(spec, &image, &context)?;
        for init in &resolved.init_containers {
            run_to_completion(init, &image, at.host_ns, at.dir).await?;
        }
        let [(berthd, readiness)]: [(ContainerSpec, Option<Readiness>); 1] =
            resolved.containers.try_into().map_err(|c: Vec<_>| {
                anyhow!(
                    "the DaemonSet pod has {} containers, expected berthd alone",
                    c.len()
                )
            })?;
        let socket = berthd_socket(spec, &berthd)?;
        Ok(DaemonPod {
            name,
            berthd,
            readiness,
            socket,
            image,
            log: at.dir.join("berthd.log"),
            process: Mutex::new(None),
            volume_sync,
        })
    }

    fn process(&self) -> MutexGuard<'_, Option<Process>> {
        self.process.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts berthd and waits for its readiness probe.
    pub async fn start(&self, ns: &Netns) -> Result<()> {
        {
            let mut process = self.process();
            if process.is_some() {
                bail!("berthd already runs");
            }
            let command = self.berthd.command(&self.image.rootfs, ns)?;
            *process = Some(Process::spawn_appending("berthd", command, &self.log)?);
        }
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            self.check()?;
            let ready = match &self.readiness {
                Some(probe) => self.probe(probe, ns).await?,
                None => true,
            };
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "berthd is not ready after {READY_TIMEOUT:?}:\n{}",
                    log_tail(&self.log)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn probe(&self, probe: &Readiness, ns: &Netns) -> Result<bool> {
        let mut cmd = match probe {
            Readiness::HttpGet { host, port, path } => {
                let mut cmd = ns.command(&helper_binary()?.to_string_lossy());
                cmd.args(["http-get", &format!("{host}:{port}"), path]);
                cmd
            }
            Readiness::Exec(spec) => spec.command(&self.image.rootfs, ns)?,
        };
        Ok(tokio::task::spawn_blocking(move || cmd.output())
            .await??
            .status
            .success())
    }

    /// berthd's `/metrics`, fetched inside the node from the address and
    /// port its httpGet readiness probe uses (the chart's metrics port).
    pub async fn metrics(&self, ns: &Netns) -> Result<String> {
        let Some(Readiness::HttpGet { host, port, .. }) = &self.readiness else {
            bail!("berthd has no httpGet probe: the chart's metrics are off");
        };
        let mut cmd = ns.command(&helper_binary()?.to_string_lossy());
        cmd.args(["http-body", &format!("{host}:{port}"), "/metrics"]);
        let out = tokio::task::spawn_blocking(move || cmd.output()).await??;
        if !out.status.success() {
            bail!(
                "GET /metrics from berthd: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `berthd <args> --socket <socket>` in the berthd container, as
    /// `kubectl exec` would run it; stdout.
    pub async fn cli(&self, ns: &Netns, args: &[&str]) -> Result<String> {
        let mut spec = self.berthd.clone();
        let program = spec
            .argv
            .first()
            .cloned()
            .context("berthd has no command")?;
        spec.argv = std::iter::once(program)
            .chain(args.iter().map(|a| a.to_string()))
            .chain(["--socket".to_string(), self.socket.clone()])
            .collect();
        let mut cmd = spec.command(&self.image.rootfs, ns)?;
        let out = tokio::task::spawn_blocking(move || cmd.output()).await??;
        if !out.status.success() {
            bail!(
                "berthd {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// SIGKILL; the PID it had.
    pub fn kill(&self) -> Result<u32> {
        let mut process = self.process().take().context("berthd is not running")?;
        let pid = process.pid();
        process.kill()?;
        Ok(pid)
    }

    pub fn pid(&self) -> Option<u32> {
        self.process().as_ref().map(Process::pid)
    }

    /// An error if berthd is not running.
    pub fn check(&self) -> Result<()> {
        match self.process().as_mut() {
            Some(p) => p.check_running(),
            None => bail!("berthd was stopped"),
        }
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Stops berthd and the volume sync.
    pub fn stop(&self) {
        self.volume_sync.abort();
        if let Some(mut p) = self.process().take() {
            let _ = p.kill();
        }
    }
}

impl Drop for DaemonPod {
    fn drop(&mut self) {
        self.stop();
    }
}
