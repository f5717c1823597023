//! The kubelet's reconcile step: compare the pods the API server has
//! bound to this node with the slots held, and start, tear down or
//! finalize accordingly. Slow work (CNI calls, status writes, deletes)
//! runs in tasks of its own, so one slow ADD never holds up another pod;
//! the slot marks the pod as busy meanwhile.

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, Preconditions};

use super::sandbox::{new_container_id, PodKey, Sandbox};
use super::state::{key_of, Shared, Slot};
use super::{status, Network};

/// Backoff after a failed ADD or DEL: doubles from here up to the cap.
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(3);

/// When to try again after the `attempts`-th failure in a row.
fn retry_at(attempts: u32) -> Instant {
    let delay = RETRY_FIRST.saturating_mul(2u32.saturating_pow(attempts.saturating_sub(1).min(8)));
    Instant::now() + delay.min(RETRY_MAX)
}
const NETWORKS_ANNOTATION: &str = "k8s.v1.cni.cncf.io/networks";

impl Shared {
    /// One reconcile pass over `pods`, the pods bound to this node as the
    /// watch last saw them.
    pub fn sync_once(self: Arc<Self>, pods: Vec<Arc<Pod>>) {
        let mut seen = std::collections::HashSet::new();
        let mut state = self.state();
        // Pods are cloned out of the cache only for the work they start:
        // a pass over a hundred unchanged pods must cost next to nothing.
        for pod in pods {
            let Some(key) = key_of(&pod) else { continue };
            seen.insert(key.uid.clone());
            let deleting = pod.metadata.deletion_timestamp.is_some();
            let host_network = pod.spec.as_ref().and_then(|s| s.host_network) == Some(true);
            let slot = state.pods.remove(&key.uid);
            let next = match (slot, deleting) {
                (None, false) if host_network => {
                    tokio::spawn(
                        self.clone()
                            .write_status(Pod::clone(&pod), vec![self.config.host_ip.clone()]),
                    );
                    Slot::HostNetwork
                }
                (None, false) => {
                    state.stats.adds_started += 1;
                    self.clone().spawn_start(Pod::clone(&pod), key.clone(), 0)
                }
                (Some(Slot::Backoff(at)), false) if Instant::now() >= at => {
                    state.stats.adds_started += 1;
                    self.clone().spawn_start(Pod::clone(&pod), key.clone(), 0)
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
                        sandbox,
                        retry_at,
                        attempts,
                    }),
                    deleting,
                ) if Instant::now() >= retry_at => {
                    // DEL first; then the pod's deletion is finished, or
                    // a new sandbox is started.
                    let restart = (!deleting).then(|| Pod::clone(&pod));
                    self.clone()
                        .spawn_teardown(sandbox, restart, attempts, deleting)
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
                Some(Slot::Running(sandbox)) => {
                    let slot = self.clone().spawn_teardown(sandbox, None, 0, false);
                    state.pods.insert(uid, slot);
                }
                Some(Slot::Failed {
                    sandbox,
                    retry_at,
                    attempts,
                }) if Instant::now() >= retry_at => {
                    let slot = self.clone().spawn_teardown(sandbox, None, attempts, false);
                    state.pods.insert(uid, slot);
                }
                Some(slot @ (Slot::Starting(..) | Slot::Busy(..) | Slot::Failed { .. })) => {
                    state.pods.insert(uid, slot);
                }
                // Busy markers of finished teardowns and the rest: done.
                _ => {}
            }
        }
    }

    pub(super) fn networks_for(&self, pod: &Pod) -> Vec<(Network, String)> {
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

    /// Marks the pod as starting under a new container id and makes its
    /// sandbox (namespace, then ADDs) in a task: a reconcile pass over
    /// many new pods must not run their `ip netns add`s one by one.
    /// Never locks the state: the reconcile pass calls it holding the lock.
    fn spawn_start(self: Arc<Self>, pod: Pod, key: PodKey, attempts: u32) -> Slot {
        let networks = self.networks_for(&pod);
        let ifnames = networks.iter().map(|(_, i)| i.clone()).collect();
        let container_id = new_container_id();
        tokio::spawn(
            self.clone()
                .run_start(pod, key, container_id.clone(), networks, attempts),
        );
        Slot::Starting(container_id, ifnames)
    }

    async fn run_start(
        self: Arc<Self>,
        pod: Pod,
        key: PodKey,
        container_id: String,
        networks: Vec<(Network, String)>,
        attempts: u32,
    ) {
        // Waits for a start slot of this node (see `SANDBOX_STARTS`); the
        // pod stays `Starting` meanwhile, as a pod in a real kubelet's queue.
        let Ok(permit) = self.starts.acquire().await else {
            return;
        };
        let runtime = self.config.runtime.clone();
        let made = tokio::task::spawn_blocking(move || {
            let mut sandbox = Sandbox::with_id(key, container_id, networks)?;
            let started = Instant::now();
            let result = sandbox.add(&runtime);
            anyhow::Ok((sandbox, result, started.elapsed()))
        })
        .await;
        drop(permit);
        let (sandbox, added, took) = match made {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => {
                let Some(key) = key_of(&pod) else { return };
                self.log(&format!("{key}: cannot create a sandbox: {e:#}"));
                self.state()
                    .pods
                    .insert(key.uid, Slot::Backoff(Instant::now() + RETRY_MAX));
                return;
            }
            Err(e) => {
                self.log(&format!("ADD task failed: {e}"));
                return;
            }
        };
        let uid = sandbox.pod.uid.clone();
        match added {
            Ok(()) => {
                let ips = sandbox.ips();
                let pod_ips = sandbox.pod_ips();
                self.log(&format!(
                    "ADD {} {} ok: {ips:?}",
                    sandbox.pod, sandbox.container_id
                ));
                self.state().added(uid, sandbox, ips, took);
                self.write_status(pod, pod_ips).await;
            }
            Err(e) => {
                self.log(&format!(
                    "ADD {} {} failed: {e:#}",
                    sandbox.pod, sandbox.container_id
                ));
                let attempts = attempts + 1;
                let mut state = self.state();
                state.stats.adds_failed += 1;
                state.pods.insert(
                    uid,
                    Slot::Failed {
                        sandbox,
                        retry_at: retry_at(attempts),
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
        let marker = Slot::busy(&sandbox);
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
                        retry_at: retry_at(attempts + 1),
                        attempts: attempts + 1,
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

    pub(super) async fn write_status(self: Arc<Self>, pod: Pod, ips: Vec<String>) {
        let Some(key) = key_of(&pod) else { return };
        let body = status::running(&pod, &ips, &self.config.host_ip);
        if let Err(e) = status::write(&self.pods(&key.namespace), &key.name, &body).await {
            self.log(&format!("{key}: status write failed: {e:#}"));
        }
    }
}
