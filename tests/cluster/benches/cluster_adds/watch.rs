//! Watching the bench's pods: when each was first seen and when it first
//! had a podIP. One watch stream, so measuring adds no polling load to
//! the API server being measured.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::{watcher, WatchStreamExt};
use kube::Api;
use tokio::task::JoinHandle;

#[derive(Default)]
struct Seen {
    first: HashMap<String, Instant>,
    /// uid -> (when, the podIP).
    addressed: HashMap<String, (Instant, String)>,
}

pub struct PodWatch {
    seen: Arc<Mutex<Seen>>,
    task: JoinHandle<()>,
}

impl PodWatch {
    /// Watches pods labelled `selector` in `namespace`.
    pub fn start(client: kube::Client, namespace: &str, selector: &str) -> Self {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let api: Api<Pod> = Api::namespaced(client, namespace);
        let config = watcher::Config::default().labels(selector);
        let recording = seen.clone();
        let task = tokio::spawn(async move {
            let stream = watcher(api, config).default_backoff().applied_objects();
            let mut stream = std::pin::pin!(stream);
            while let Some(event) = stream.next().await {
                let Ok(pod) = event else { continue };
                let Some(uid) = pod.metadata.uid.clone() else {
                    continue;
                };
                let now = Instant::now();
                let mut seen = recording.lock().unwrap_or_else(|p| p.into_inner());
                seen.first.entry(uid.clone()).or_insert(now);
                if let Some(ip) = pod.status.and_then(|s| s.pod_ip) {
                    seen.addressed.entry(uid).or_insert((now, ip));
                }
            }
        });
        PodWatch { seen, task }
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn addressed(&self) -> usize {
        self.seen().addressed.len()
    }

    /// Waits until `n` pods have an IP; `None` at the timeout. Prints
    /// progress to stderr every 10 s.
    pub async fn wait_addressed(&self, n: usize, timeout: Duration) -> Option<Instant> {
        let started = Instant::now();
        let mut report = started;
        loop {
            {
                let seen = self.seen();
                if seen.addressed.len() >= n {
                    return seen.addressed.values().map(|(at, _)| *at).max();
                }
            }
            if started.elapsed() > timeout {
                return None;
            }
            if report.elapsed() >= Duration::from_secs(10) {
                report = Instant::now();
                let seen = self.seen();
                eprintln!(
                    "cluster_adds: {:>5.0?}: {} pods seen, {} addressed",
                    started.elapsed(),
                    seen.first.len(),
                    seen.addressed.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// When the last pod was first seen (all pods created).
    pub fn last_created(&self) -> Option<Instant> {
        self.seen().first.values().max().copied()
    }

    /// Per addressed pod: first seen to podIP seen.
    pub fn create_to_ip(&self) -> Vec<Duration> {
        let seen = self.seen();
        seen.addressed
            .iter()
            .filter_map(|(uid, (at, _))| Some(at.duration_since(*seen.first.get(uid)?)))
            .collect()
    }

    /// An error naming any podIP that two pods reported.
    pub fn check_distinct_ips(&self) -> Result<()> {
        let seen = self.seen();
        let mut owner: HashMap<&str, &str> = HashMap::new();
        for (uid, (_, ip)) in &seen.addressed {
            if let Some(other) = owner.insert(ip, uid) {
                bail!("{ip} was reported by pods {other} and {uid}");
            }
        }
        Ok(())
    }
}

impl Drop for PodWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}
