//! The kubelet's bookkeeping and its one reconcile step: compare the pods
//! the API server has bound to this node with the sandboxes held, and
//! start, tear down or finalize accordingly. Slow work (CNI calls, status
//! writes, deletes) runs in tasks of its own, so one slow ADD never holds
//! up another pod, and a slot marks a pod as busy meanwhile.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, ListParams, Preconditions};
use kube::Api;

use super::sandbox::{PodKey, Sandbox};
use super::{status, KubeletConfig};

/// Backoff after a failed ADD: doubles from here up to the cap.
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(3);
const NETWORKS_ANNOTATION: &str = "k8s.v1.cni.cncf.io/networks";

/// A successful ADD.
#[derive(Debug, Clone)]
pub struct AddRecord {
    pub pod: PodKey,
    pub container_id: String,
    pub ips: Vec<String>,
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

enum Slot {
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
struct State {
    pods: HashMap<String, Slot>,
    history: Vec<AddRecord>,
    stats: Stats,
}

pub struct Shared {
    pub config: KubeletConfig,
    client: kube::Client,
    state: Mutex<State>,
    log: Mutex<std::fs::File>,
}

fn key_of(pod: &Pod) -> Option<PodKey> {
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
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
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

    fn pods(&self, namespace: &str) -> Api<Pod> {
        Api::namespaced(self.client.clone(), namespace)
    }

    /// One reconcile pass.
    pub async fn sync_once(self: Arc<Self>) -> Result<()> {
        let api: Api<Pod> = Api::all(self.client.clone());
        let list = api
            .list(&ListParams::default().fields(&format!("spec.nodeName={}", self.config.node)))
            .await?;
        let mut seen = std::collections::HashSet::new();
        let mut state = self.state();
        for pod in list.items {
            let Some(key) = key_of(&pod) else { continue };
            seen.insert(key.uid.clone());
            let deleting = pod.metadata.deletion_timestamp.is_some();
            let host_network = pod.spec.as_ref().and_then(|s| s.host_network) == Some(true);
            let slot = state.pods.remove(&key.uid);
            let next = match (slot, deleting) {
                (None, false) if host_network => {
                    tokio::spawn(
                        self.clone()
                            .write_status(pod, vec![self.config.host_ip.clone()]),
                    );
                    Slot::HostNetwork
                }
                (None, false) => {
                    state.stats.adds_started += 1;
                    self.clone().spawn_start(pod, key.clone(), 0)
                }
                (Some(Slot::Backoff(at)), false) if Instant::now() >= at => {
                    state.stats.adds_started += 1;
                    self.clone().spawn_start(pod, key.clone(), 0)
                }
                (None | Some(Slot::Forgotten | Slot::HostNetwork | Slot::Backoff(_)), true) => {
                    tokio::spawn(self.clone().finalize(key.clone()));
                    Slot::Finalizing
                }
                (Some(Slot::Running(sandbox)), true) => {
                    self.clone().spawn_teardown(sandbox, None, 0, true)
                }
                (
                    Some(Slot::Failed {
                        sandbox, attempts, ..
                    }),
                    true,
                ) => self.clone().spawn_teardown(sandbox, None, attempts, true),
                (
                    Some(Slot::Failed {
                        sandbox,
                        retry_at,
                        attempts,
                    }),
                    false,
                ) if Instant::now() >= retry_at => {
                    self.clone()
                        .spawn_teardown(sandbox, Some(pod), attempts, false)
                }
                (Some(other), _) => other,
            };
            state.pods.insert(key.uid, next);
        }
        // Pods gone from the API server (force-deleted) still get their DEL.
        let gone: Vec<String> = state
            .pods
            .keys()
            .filter(|uid| !seen.contains(*uid))
            .cloned()
            .collect();
        for uid in gone {
            match state.pods.remove(&uid) {
                Some(Slot::Running(sandbox)) | Some(Slot::Failed { sandbox, .. }) => {
                    let slot = self.clone().spawn_teardown(sandbox, None, 0, false);
                    state.pods.insert(uid, slot);
                }
                Some(slot @ (Slot::Starting(..) | Slot::Busy(..))) => {
                    state.pods.insert(uid, slot);
                }
                // Busy markers of finished teardowns and the rest: done.
                _ => {}
            }
        }
        Ok(())
    }

    fn networks_for(&self, pod: &Pod) -> Vec<(super::Network, String)> {
        let mut networks = vec![(self.config.primary.clone(), "eth0".to_string())];
        if let Some(secondary) = &self.config.secondary {
            let wanted = pod
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(NETWORKS_ANNOTATION))
                .is_some_and(|v| v.split(',').any(|n| n.trim() == secondary.name()));
            if wanted {
                networks.push((secondary.clone(), "net1".to_string()));
            }
        }
        networks
    }

    /// Makes the sandbox now (creating its namespace is quick) and runs
    /// its ADDs in a task; returns the slot marking it.
    /// Never locks the state: the reconcile pass calls it holding the lock.
    fn spawn_start(self: Arc<Self>, pod: Pod, key: PodKey, attempts: u32) -> Slot {
        let networks = self.networks_for(&pod);
        let ifnames = networks.iter().map(|(_, i)| i.clone()).collect();
        let sandbox = match Sandbox::new(key.clone(), networks) {
            Ok(s) => s,
            Err(e) => {
                self.log(&format!("{key}: cannot create a sandbox: {e:#}"));
                return Slot::Backoff(Instant::now() + RETRY_MAX);
            }
        };
        let container_id = sandbox.container_id.clone();
        tokio::spawn(self.clone().run_start(pod, sandbox, attempts));
        Slot::Starting(container_id, ifnames)
    }

    async fn run_start(self: Arc<Self>, pod: Pod, mut sandbox: Sandbox, attempts: u32) {
        let runtime = self.config.runtime.clone();
        let (sandbox, added) = match tokio::task::spawn_blocking(move || {
            let result = sandbox.add(&runtime);
            (sandbox, result)
        })
        .await
        {
            Ok(done) => done,
            Err(e) => {
                self.log(&format!("ADD task failed: {e}"));
                return;
            }
        };
        let uid = sandbox.pod.uid.clone();
        match added {
            Ok(()) => {
                let ips = sandbox.ips();
                self.log(&format!(
                    "ADD {} {} ok: {ips:?}",
                    sandbox.pod, sandbox.container_id
                ));
                {
                    let mut state = self.state();
                    state.stats.adds_ok += 1;
                    state.history.push(AddRecord {
                        pod: sandbox.pod.clone(),
                        container_id: sandbox.container_id.clone(),
                        ips: ips.clone(),
                    });
                    state.pods.insert(uid, Slot::Running(sandbox));
                }
                self.write_status(pod, ips).await;
            }
            Err(e) => {
                self.log(&format!(
                    "ADD {} {} failed: {e:#}",
                    sandbox.pod, sandbox.container_id
                ));
                let attempts = attempts + 1;
                let backoff = (RETRY_FIRST * 2u32.saturating_pow(attempts - 1)).min(RETRY_MAX);
                let mut state = self.state();
                state.stats.adds_failed += 1;
                state.pods.insert(
                    uid,
                    Slot::Failed {
                        sandbox,
                        retry_at: Instant::now() + backoff,
                        attempts,
                    },
                );
            }
        }
    }

    /// DEL in a task; then start again (`restart` = the pod to start),
    /// finalize the pod object (`finalize`), or just forget the sandbox.
    /// Never locks the state itself (see `spawn_start`).
    fn spawn_teardown(
        self: Arc<Self>,
        sandbox: Sandbox,
        restart: Option<Pod>,
        attempts: u32,
        finalize: bool,
    ) -> Slot {
        let marker = Slot::Busy(
            sandbox.container_id.clone(),
            sandbox
                .attachments
                .iter()
                .map(|a| a.ifname.clone())
                .collect(),
        );
        tokio::spawn(async move {
            let runtime = self.config.runtime.clone();
            let Ok((sandbox, deleted)) = tokio::task::spawn_blocking(move || {
                let result = sandbox.del(&runtime);
                (sandbox, result)
            })
            .await
            else {
                return;
            };
            let key = sandbox.pod.clone();
            if let Err(e) = deleted {
                // Keep it and try again later: DEL must eventually succeed,
                // or berthd would hold the address of a dead sandbox.
                self.log(&format!("DEL {key} {} failed: {e:#}", sandbox.container_id));
                let mut state = self.state();
                state.stats.dels_failed += 1;
                state.pods.insert(
                    key.uid.clone(),
                    Slot::Failed {
                        sandbox,
                        retry_at: Instant::now() + RETRY_FIRST,
                        attempts,
                    },
                );
                return;
            }
            self.log(&format!("DEL {key} {} ok", sandbox.container_id));
            drop(sandbox);
            if let Some(pod) = restart {
                let slot = self.clone().spawn_start(pod, key.clone(), attempts);
                let mut state = self.state();
                state.stats.adds_started += 1;
                state.pods.insert(key.uid, slot);
            } else if finalize {
                self.state().pods.insert(key.uid.clone(), Slot::Finalizing);
                self.finalize(key).await;
            } else {
                self.state().pods.remove(&key.uid);
            }
        });
        marker
    }

    /// Deletes the pod object for good (grace 0, this UID only), as the
    /// kubelet does once a terminating pod's sandbox is gone.
    async fn finalize(self: Arc<Self>, key: PodKey) {
        let params = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: Some(key.uid.clone()),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        match self.pods(&key.namespace).delete(&key.name, &params).await {
            Ok(_) => self.log(&format!("{key}: deleted")),
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {}
            Err(e) => {
                self.log(&format!("{key}: delete failed: {e}"));
                // Let the next pass try again.
                self.state().pods.remove(&key.uid);
            }
        }
    }

    async fn write_status(self: Arc<Self>, pod: Pod, ips: Vec<String>) {
        let Some(key) = key_of(&pod) else { return };
        let body = status::running(&pod, &ips, &self.config.host_ip);
        if let Err(e) = status::write(&self.pods(&key.namespace), &key.name, &body).await {
            self.log(&format!("{key}: status write failed: {e:#}"));
        }
    }

    fn find(&self, namespace: &str, name: &str) -> Option<String> {
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

    pub async fn restart(self: Arc<Self>, namespace: &str, name: &str) -> Result<SandboxInfo> {
        let uid = self.find(namespace, name).with_context(|| {
            format!(
                "{namespace}/{name} has no running sandbox on {}",
                self.config.node
            )
        })?;
        let old = {
            let mut state = self.state();
            let Some(Slot::Running(sandbox)) = state.pods.remove(&uid) else {
                bail!("{namespace}/{name} changed state meanwhile");
            };
            let marker = Slot::Busy(
                sandbox.container_id.clone(),
                sandbox
                    .attachments
                    .iter()
                    .map(|a| a.ifname.clone())
                    .collect(),
            );
            state.pods.insert(uid.clone(), marker);
            sandbox
        };
        let pod = self.pods(namespace).get(name).await?;
        let networks = self.networks_for(&pod);
        let runtime = self.config.runtime.clone();
        self.state().stats.adds_started += 1;
        let (outcome, old) = tokio::task::spawn_blocking(move || {
            let result = (|| -> Result<Sandbox> {
                old.del(&runtime).context("DEL of the old sandbox")?;
                let mut new = Sandbox::new(old.pod.clone(), networks)?;
                match new.add(&runtime) {
                    Ok(()) => Ok(new),
                    Err(e) => {
                        // Undo the half-made sandbox before reporting.
                        let _ = new.del(&runtime);
                        Err(e.context("ADD of the new sandbox"))
                    }
                }
            })();
            (result, old)
        })
        .await?;
        match outcome {
            Ok(new) => {
                let ips = new.ips();
                self.log(&format!(
                    "restart {} {} -> {}: {ips:?}",
                    new.pod, old.container_id, new.container_id
                ));
                let info = info(&new);
                {
                    let mut state = self.state();
                    state.stats.adds_ok += 1;
                    state.history.push(AddRecord {
                        pod: new.pod.clone(),
                        container_id: new.container_id.clone(),
                        ips: ips.clone(),
                    });
                    state.pods.insert(uid, Slot::Running(new));
                }
                drop(old);
                self.clone().write_status(pod, ips).await;
                Ok(info)
            }
            Err(e) => {
                // The old sandbox may be half-deleted: the loop retries
                // DEL and ADD from here, like any failed sandbox.
                let mut state = self.state();
                state.stats.adds_failed += 1;
                state.pods.insert(
                    uid,
                    Slot::Failed {
                        sandbox: old,
                        retry_at: Instant::now(),
                        attempts: 1,
                    },
                );
                Err(e)
            }
        }
    }

    pub async fn gc(self: Arc<Self>) -> Result<()> {
        let mut networks = vec![self.config.primary.clone()];
        networks.extend(self.config.secondary.clone());
        for network in networks {
            let valid: Vec<(String, String)> = {
                let state = self.state();
                state
                    .pods
                    .values()
                    .flat_map(|slot| match slot {
                        Slot::Running(s) | Slot::Failed { sandbox: s, .. } => {
                            s.valid_attachments(network.name())
                        }
                        // In flight: valid until proven otherwise (all of
                        // the pod's interfaces; extras are harmless).
                        Slot::Starting(id, ifnames) | Slot::Busy(id, ifnames) => {
                            ifnames.iter().map(|i| (id.clone(), i.clone())).collect()
                        }
                        _ => Vec::new(),
                    })
                    .collect()
            };
            let runtime = self.config.runtime.clone();
            let count = valid.len();
            let name = network.name().to_string();
            tokio::task::spawn_blocking(move || runtime.gc(&network, &valid))
                .await?
                .with_context(|| format!("CNI GC of {name}"))?;
            self.log(&format!("GC {name}: {count} valid attachments"));
        }
        Ok(())
    }

    pub fn forget(&self, namespace: &str, name: &str) -> Result<String> {
        let uid = self.find(namespace, name).ok_or_else(|| {
            anyhow!(
                "{namespace}/{name} has no running sandbox on {}",
                self.config.node
            )
        })?;
        let mut state = self.state();
        let Some(Slot::Running(sandbox)) = state.pods.insert(uid, Slot::Forgotten) else {
            bail!("{namespace}/{name} changed state meanwhile");
        };
        let id = sandbox.container_id.clone();
        drop(state);
        self.log(&format!("{}: forgotten without DEL ({id})", sandbox.pod));
        Ok(id)
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

fn info(sandbox: &Sandbox) -> SandboxInfo {
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
