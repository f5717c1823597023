//! A trivial scheduler: binds every pod that has no node to one of the
//! nodes with a running kubelet, through the `pods/binding` subresource
//! (what kube-scheduler does). A pod's `nodeSelector` must match the
//! node's labels; among the matching nodes the choice is round-robin.
//! No resources, affinity or taints: the tests place pods by label.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{ListParams, PostParams};
use kube::Api;
use serde_json::{json, Value};
use tokio::task::JoinHandle;

const POLL: Duration = Duration::from_millis(200);

/// The nodes pods may be bound to (those whose kubelet runs).
pub type Schedulable = Arc<Mutex<Vec<String>>>;

pub struct Scheduler {
    task: JoinHandle<()>,
}

impl Scheduler {
    pub fn start(client: kube::Client, nodes: Schedulable) -> Self {
        let task = tokio::spawn(async move {
            let mut next = 0usize;
            loop {
                if let Err(e) = schedule_once(&client, &nodes, &mut next).await {
                    eprintln!("berth-cluster scheduler: {e:#}");
                }
                tokio::time::sleep(POLL).await;
            }
        });
        Scheduler { task }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn schedule_once(client: &kube::Client, nodes: &Schedulable, next: &mut usize) -> Result<()> {
    let pods: Api<Pod> = Api::all(client.clone());
    let pending = pods
        .list(&ListParams::default().fields("spec.nodeName="))
        .await?;
    if pending.items.is_empty() {
        return Ok(());
    }
    let allowed = nodes.lock().map(|n| n.clone()).unwrap_or_default();
    let labels: BTreeMap<String, BTreeMap<String, String>> = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter_map(|n| {
            let name = n.metadata.name?;
            allowed
                .contains(&name)
                .then(|| (name, n.metadata.labels.unwrap_or_default()))
        })
        .collect();
    for pod in pending.items {
        if pod.metadata.deletion_timestamp.is_some() {
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
        bind(client, &pod, &node).await?;
    }
    Ok(())
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
