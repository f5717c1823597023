//! A test kubelet for one node. It watches the pods bound to its node (a
//! reflector, as the real kubelet's informer: no list per pass) and, for
//! each, does what a kubelet and container runtime do for a pod's network: a network namespace, the real CNI chain (ADD, and DEL
//! when the pod goes), then the pod's status so the controllers move on.
//! A failed ADD is torn down with DEL and retried with a new container
//! id, and a failed DEL is retried until it succeeds, as the real kubelet
//! does. No containers run: a pod is its network.
//!
//! Tests reach in to do what the real kubelet does on its own schedule
//! (restart a pod's sandbox, run a CNI GC) or what only a fault does (lose
//! a DEL).

mod cni;
mod ops;
mod reconcile;
mod sandbox;
pub mod scheduler;
mod state;
mod status;
pub mod volumes;

pub use cni::{pod_args, CniRuntime, Network, CNI_VERSION, GC_VERSION, SYSTEM_PLUGIN_DIR};
pub use sandbox::PodKey;
pub use state::{AddRecord, SandboxInfo, Stats};

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::{reflector, watcher, WatchStreamExt};
use kube::Api;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use state::Shared;

/// A reconcile pass runs on every change of the node's pods, and at
/// least this often (for retry timers); passes read the watch's cache.
const POLL: Duration = Duration::from_millis(200);
/// Sandboxes a node starts at once. Every plugin of a CNI chain is a
/// process; all the test nodes share one machine's cores, so a burst of
/// a hundred pods per node started all at once would only make a
/// thousand processes fight for them (and their memory). A real node's
/// runtime is bounded by its own CPUs in the same way.
const SANDBOX_STARTS: usize = 4;

/// What a node's kubelet needs to know.
#[derive(Debug, Clone)]
pub struct KubeletConfig {
    pub node: String,
    pub host_ip: String,
    pub runtime: CniRuntime,
    /// The pod network every pod gets as eth0.
    pub primary: Network,
    /// A second network (e.g. macvlan) a pod asks for by naming it in the
    /// `k8s.v1.cni.cncf.io/networks` annotation; attached as net1.
    pub secondary: Option<Network>,
    /// The kubelet's own log (every CNI call and its outcome).
    pub log: std::path::PathBuf,
}

pub struct Kubelet {
    shared: Arc<Shared>,
    task: JoinHandle<()>,
    watch: JoinHandle<()>,
}

impl Kubelet {
    pub fn start(client: kube::Client, config: KubeletConfig) -> Result<Self> {
        let node_pods =
            watcher::Config::default().fields(&format!("spec.nodeName={}", config.node));
        let api: Api<Pod> = Api::all(client.clone());
        let shared = Arc::new(Shared::new(client, config)?);
        let (pods, writer) = reflector::store();
        let changed = Arc::new(Notify::new());
        let (notify, watching) = (changed.clone(), shared.clone());
        let watch = tokio::spawn(async move {
            let events = reflector(writer, watcher(api, node_pods)).default_backoff();
            let mut events = std::pin::pin!(events);
            while let Some(event) = events.next().await {
                match event {
                    Ok(_) => notify.notify_one(),
                    Err(e) => watching.log(&format!("pod watch: {e}")),
                }
            }
        });
        let looping = shared.clone();
        let task = tokio::spawn(async move {
            if pods.wait_until_ready().await.is_err() {
                return;
            }
            loop {
                looping.clone().sync_once(pods.state());
                // A change wakes the next pass at once (a change during
                // this pass left a permit); else the timer does.
                let _ = tokio::time::timeout(POLL, changed.notified()).await;
            }
        });
        Ok(Kubelet {
            shared,
            task,
            watch,
        })
    }

    pub fn node(&self) -> &str {
        &self.shared.config.node
    }

    /// The running sandbox of pod `namespace/name`, if any.
    pub fn sandbox(&self, namespace: &str, name: &str) -> Option<SandboxInfo> {
        self.shared.sandbox(namespace, name)
    }

    /// Every running sandbox on this node.
    pub fn sandboxes(&self) -> Vec<SandboxInfo> {
        self.shared.sandboxes()
    }

    /// DEL the pod's sandbox and ADD a new one under a new container id
    /// (a pod sandbox restart); the new sandbox.
    pub async fn restart_pod(&self, namespace: &str, name: &str) -> Result<SandboxInfo> {
        self.shared.clone().restart(namespace, name).await
    }

    /// CNI GC of every network with the attachments this node really
    /// has (running, starting, or not yet torn down).
    pub async fn cni_gc(&self) -> Result<()> {
        self.shared.clone().gc().await
    }

    /// Loses the pod's DEL: its namespace goes, berthd is never told.
    /// The kubelet then ignores the pod except to finalize its deletion.
    /// Returns the forgotten container id.
    pub fn forget_pod(&self, namespace: &str, name: &str) -> Result<String> {
        self.shared.forget(namespace, name)
    }

    /// Every successful ADD, in order.
    pub fn history(&self) -> Vec<AddRecord> {
        self.shared.history()
    }

    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }
}

impl Drop for Kubelet {
    fn drop(&mut self) {
        self.task.abort();
        self.watch.abort();
        // Sandboxes still held go with the state (their namespaces are
        // deleted); no DEL: berthd is stopped with the cluster.
        self.shared.clear();
    }
}
