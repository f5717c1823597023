//! What tests ask of a kubelet beyond its own loop: restart a pod's
//! sandbox, run a CNI GC with the attachments it really has, lose a DEL.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

use super::sandbox::Sandbox;
use super::state::{info, SandboxInfo, Shared, Slot};

impl Shared {
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
            let marker = Slot::busy(&sandbox);
            state.pods.insert(uid.clone(), marker);
            sandbox
        };
        let pod = self.pods(namespace).get(name).await?;
        let networks = self.networks_for(&pod);
        let runtime = self.config.runtime.clone();
        self.state().stats.adds_started += 1;
        let (outcome, old) = tokio::task::spawn_blocking(move || {
            let result = (|| -> Result<(Sandbox, Duration)> {
                old.del(&runtime).context("DEL of the old sandbox")?;
                let mut new = Sandbox::new(old.pod.clone(), networks)?;
                let started = Instant::now();
                match new.add(&runtime) {
                    Ok(()) => Ok((new, started.elapsed())),
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
            Ok((new, took)) => {
                let ips = new.ips();
                let pod_ips = new.pod_ips();
                self.log(&format!(
                    "restart {} {} -> {}: {ips:?}",
                    new.pod, old.container_id, new.container_id
                ));
                let info = info(&new);
                self.state().added(uid, new, ips, took);
                drop(old);
                self.clone().write_status(pod, pod_ips).await;
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
}
