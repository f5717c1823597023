//! A trivial scheduler: binds every pod that has no node to one of the
//! nodes with a running kubelet, through the `pods/binding` subresource
//! (what kube-scheduler does). A pod's `nodeSelector` must match the
//! node's labels; among the matching nodes the choice is round-robin.
//! No resources, affinity or taints: the tests place pods by label.
//! Unbound pods and nodes come from watches (as kube-scheduler's
//! informers), so a pass costs the API server nothing but the bindings,
//! which go out a few at a time.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::PostParams;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::Api;
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// A pass runs on every change, and at least this often.
const POLL: Duration = Duration::from_millis(200);
/// Bindings in flight at once.
const BINDS_IN_FLIGHT: usize = 8;

/// The nodes pods may be bound to (those whose kubelet runs).
pub type Schedulable = Arc<Mutex<Vec<String>>>;

pub struct Scheduler {
    tasks: Vec<JoinHandle<()>>,
}

/// A reflector of `api` with `config`, waking `changed` on every event.
fn watch<K>(
    api: Api<K>,
    config: watcher::Config,
    changed: Arc<Notify>,
) -> (Store<K>, JoinHandle<()>)
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + Send
        + Sync
        + k8s_openapi::serde::de::DeserializeOwned
        + 'static,
{
    let (reader, writer) = reflector::store();
    let task = tokio::spawn(async move {
        let events = reflector::reflector(writer, watcher(api, config)).default_backoff();
        let mut events = std::pin::pin!(events);
        while let Some(event) = events.next().await {
            match event {
                Ok(_) => changed.notify_one(),
                Err(e) => eprintln!("berth-cluster scheduler: watch: {e}"),
            }
        }
    });
    (reader, task)
}

impl Scheduler {
    pub fn start(client: kube::Client, nodes: Schedulable) -> Self {
        let changed = Arc::new(Notify::new());
        let unbound = watcher::Config::default().fields("spec.nodeName=");
        let (pods, pod_watch) = watch(Api::<Pod>::all(client.clone()), unbound, changed.clone());
        let (node_objects, node_watch) = watch(
            Api::<Node>::all(client.clone()),
            watcher::Config::default(),
            changed.clone(),
        );
        let task = tokio::spawn(async move {
            if pods.wait_until_ready().await.is_err()
                || node_objects.wait_until_ready().await.is_err()
            {
                return;
            }
            let mut next = 0usize;
            // Bound by us and not yet seen leaving the unbound set.
            let mut sent: HashSet<String> = HashSet::new();
            loop {
                let pending = pods.state();
                let pending_uids: HashSet<String> = pending
                    .iter()
                    .filter_map(|p| p.metadata.uid.clone())
                    .collect();
                sent.retain(|uid| pending_uids.contains(uid));
                let allowed = nodes.lock().map(|n| n.clone()).unwrap_or_default();
                let labels: BTreeMap<String, BTreeMap<String, String>> = node_objects
                    .state()
                    .iter()
                    .filter_map(|n| {
                        let name = n.metadata.name.clone()?;
                        allowed
                            .contains(&name)
                            .then(|| (name, n.metadata.labels.clone().unwrap_or_default()))
                    })
                    .collect();
                let binds = placements(&pending, &labels, &sent, &mut next);
                sent.extend(binds.iter().filter_map(|(p, _)| p.metadata.uid.clone()));
                let results: Vec<(String, Result<()>)> = futures::stream::iter(binds)
                    .map(|(pod, node)| {
                        let client = client.clone();
                        async move {
                            let uid = pod.metadata.uid.clone().unwrap_or_default();
                            (uid, bind(&client, &pod, &node).await)
                        }
                    })
                    .buffer_unordered(BINDS_IN_FLIGHT)
                    .collect()
                    .await;
                for (uid, result) in results {
                    if let Err(e) = result {
                        // Not bound: the next pass tries again.
                        sent.remove(&uid);
                        eprintln!("berth-cluster scheduler: {e:#}");
                    }
                }
                let _ = tokio::time::timeout(POLL, changed.notified()).await;
            }
        });
        Scheduler {
            tasks: vec![task, pod_watch, node_watch],
        }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The node for each unbound pod that fits somewhere and was not sent
/// already.
fn placements(
    pending: &[Arc<Pod>],
    labels: &BTreeMap<String, BTreeMap<String, String>>,
    sent: &HashSet<String>,
    next: &mut usize,
) -> Vec<(Arc<Pod>, String)> {
    let mut out = Vec::new();
    for pod in pending {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        if pod.metadata.deletion_timestamp.is_some() || sent.contains(&uid) {
            continue;
        }
        let selector = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_selector.clone())
            .unwrap_or_default();
        let fits: Vec<&String> = labels
            .iter()
            .filter(|(_, node_labels)| selector.iter().all(|(k, v)| node_labels.get(k) == Some(v)))
            .map(|(name, _)| name)
            .collect();
        if fits.is_empty() {
            continue;
        }
        let node = fits[*next % fits.len()].clone();
        *next = next.wrapping_add(1);
        out.push((pod.clone(), node));
    }
    out
}

async fn bind(client: &kube::Client, pod: &Pod, node: &str) -> Result<()> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let name = pod.metadata.name.as_deref().context("pod without a name")?;
    let binding = json!({
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": { "name": name, "uid": pod.metadata.uid },
        "target": { "apiVersion": "v1", "kind": "Node", "name": node },
    });
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    match api
        .create_subresource::<Value, Value>("binding", name, &PostParams::default(), &binding)
        .await
    {
        Ok(_) => Ok(()),
        // Deleted or bound meanwhile: the next pass sees the new state.
        Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => Ok(()),
        Err(e) => Err(e).with_context(|| format!("binding {namespace}/{name} to {node}")),
    }
}
