//! The kubelet's bookkeeping: one slot per pod UID saying what the
//! kubelet is doing with that pod's sandbox, the history of successful
//! ADDs, and counters. The reconcile step is in `reconcile`, the test
//! operations (restart, GC, a lost DEL) in `ops`.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;

use super::sandbox::{PodKey, Sandbox};
use super::KubeletConfig;

/// A successful ADD.
#[derive(Debug, Clone)]
pub struct AddRecord {
    pub pod: PodKey,
    pub container_id: String,
    pub ips: Vec<String>,
    /// The CNI ADDs of every network of the sandbox, exec to result.
    pub took: Duration,
}

/// A running sandbox as tests see it.
#[derive(Debug, Clone)]
pub struct SandboxInfo {
    pub pod: PodKey,
    pub container_id: String,
    /// (ifname, addresses from the ADD result).
    pub results: Vec<(String, Vec<String>)>,
    /// (ifname, addresses really configured in the pod's namespace).
    pub in_netns: Vec<(String, Vec<String>)>,
}

impl SandboxInfo {
    /// The primary interface's first address.
    pub fn ip(&self) -> Option<&str> {
        self.results.first()?.1.first().map(String::as_str)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub adds_started: u64,
    pub adds_ok: u64,
    pub adds_failed: u64,
    pub dels_failed: u64,
}

pub(super) enum Slot {
    /// ADD in flight under this container id (valid for GC).
    Starting(String, Vec<String>),
    Running(Sandbox),
    /// A hostNetwork pod: no sandbox, status written.
    HostNetwork,
    /// A teardown or restart in flight.
    Busy(String, Vec<String>),
    /// ADD failed; DEL it, then retry ADD from `retry_at`.
    Failed {
        sandbox: Sandbox,
        retry_at: Instant,
        attempts: u32,
    },
    /// The test lost this pod's DEL on purpose.
    Forgotten,
    /// Torn down; the pod object is being deleted.
    Finalizing,
    /// Could not even make a sandbox; try again from then.
    Backoff(Instant),
}

#[derive(Default)]
pub(super) struct State {
    pub pods: HashMap<String, Slot>,
    pub history: Vec<AddRecord>,
    pub stats: Stats,
}

impl Slot {
    /// What stands for `sandbox` while it is torn down or restarted: its
    /// container id and interfaces, still valid for GC.
    pub(super) fn busy(sandbox: &Sandbox) -> Slot {
        let ifnames = sandbox
            .attachments
            .iter()
            .map(|a| a.ifname.clone())
            .collect();
        Slot::Busy(sandbox.container_id.clone(), ifnames)
    }
}

impl State {
    /// A successful ADD of `sandbox` (its addresses `ips`, taking `took`):
    /// counted, kept in the history, and pod `uid` running it.
    pub(super) fn added(
        &mut self,
        uid: String,
        sandbox: Sandbox,
        ips: Vec<String>,
        took: Duration,
    ) {
        self.stats.adds_ok += 1;
        self.history.push(AddRecord {
            pod: sandbox.pod.clone(),
            container_id: sandbox.container_id.clone(),
            ips,
            took,
        });
        self.pods.insert(uid, Slot::Running(sandbox));
    }
}

pub struct Shared {
    pub config: KubeletConfig,
    pub(super) client: kube::Client,
    state: Mutex<State>,
    log: Mutex<std::fs::File>,
    /// Sandbox starts (namespace and ADDs) running at once on this node.
    pub(super) starts: tokio::sync::Semaphore,
}

pub(super) fn key_of(pod: &Pod) -> Option<PodKey> {
    Some(PodKey {
        namespace: pod.metadata.namespace.clone()?,
        name: pod.metadata.name.clone()?,
        uid: pod.metadata.uid.clone()?,
    })
}

impl Shared {
    pub fn new(client: kube::Client, config: KubeletConfig) -> Result<Self> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.log)
            .with_context(|| format!("opening {}", config.log.display()))?;
        Ok(Shared {
            config,
            client,
            state: Mutex::new(State::default()),
            log: Mutex::new(log),
            starts: tokio::sync::Semaphore::new(super::SANDBOX_STARTS),
        })
    }

    pub(super) fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic in a worker must not wedge the node: the state is a
        // plain map, still consistent slot by slot.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn log(&self, line: &str) {
        let now = k8s_openapi::jiff::Timestamp::now();
        if let Ok(mut f) = self.log.lock() {
            let _ = writeln!(f, "{now} {line}");
        }
    }

    pub(super) fn pods(&self, namespace: &str) -> Api<Pod> {
        Api::namespaced(self.client.clone(), namespace)
    }

    pub(super) fn find(&self, namespace: &str, name: &str) -> Option<String> {
        self.state().pods.iter().find_map(|(uid, slot)| match slot {
            Slot::Running(s) if s.pod.namespace == namespace && s.pod.name == name => {
                Some(uid.clone())
            }
            _ => None,
        })
    }

    pub fn sandbox(&self, namespace: &str, name: &str) -> Option<SandboxInfo> {
        let uid = self.find(namespace, name)?;
        match self.state().pods.get(&uid) {
            Some(Slot::Running(s)) => Some(info(s)),
            _ => None,
        }
    }

    pub fn sandboxes(&self) -> Vec<SandboxInfo> {
        self.state()
            .pods
            .values()
            .filter_map(|slot| match slot {
                Slot::Running(s) => Some(info(s)),
                _ => None,
            })
            .collect()
    }

    pub fn history(&self) -> Vec<AddRecord> {
        self.state().history.clone()
    }

    pub fn stats(&self) -> Stats {
        self.state().stats
    }

    pub fn clear(&self) {
        self.state().pods.clear();
    }
}

pub(super) fn info(sandbox: &Sandbox) -> SandboxInfo {
    SandboxInfo {
        pod: sandbox.pod.clone(),
        container_id: sandbox.container_id.clone(),
        results: sandbox
            .attachments
            .iter()
            .map(|a| (a.ifname.clone(), a.ips()))
            .collect(),
        in_netns: sandbox.addresses_in_netns().unwrap_or_default(),
    }
}
