//! Node objects without a kubelet behind them. They are Ready so that
//! controllers and our test kubelet treat them as usable; with no node
//! lifecycle controller running, nothing marks them NotReady later —
//! a test does, with [`ControlPlane::set_node_ready`].

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::Node;
use kube::api::{Patch, PatchParams, PostParams};
use kube::Api;
use serde_json::json;

use crate::control_plane::ControlPlane;

impl ControlPlane {
    /// Creates a Ready node `name` with `labels` (plus the
    /// `kubernetes.io/hostname` label every real node has) and returns it.
    pub async fn create_node(&self, name: &str, labels: &[(&str, &str)]) -> Result<Node> {
        self.create_node_inner(name, labels, None).await
    }

    /// [`Self::create_node`], with `ip` as the node's InternalIP (what
    /// pods on it report as hostIP).
    pub async fn create_node_with_ip(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        ip: &str,
    ) -> Result<Node> {
        self.create_node_inner(name, labels, Some(ip)).await
    }

    /// Sets node `name`'s Ready condition to True or False (with the
    /// reason a kubelet that stopped posting would get, NodeStatusUnknown,
    /// when false), as the node lifecycle controller and kubelet do.
    pub async fn set_node_ready(&self, name: &str, ready: bool) -> Result<Node> {
        let now = k8s_openapi::jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let (status, reason) = if ready {
            ("True", "KubeletReady")
        } else {
            ("False", "NodeStatusUnknown")
        };
        // A strategic merge patch merges conditions by type.
        let patch = json!({
            "status": { "conditions": [{
                "type": "Ready",
                "status": status,
                "reason": reason,
                "message": "set by the berth test",
                "lastHeartbeatTime": now,
                "lastTransitionTime": now,
            }] }
        });
        let nodes: Api<Node> = Api::all(self.client().await?);
        nodes
            .patch_status(name, &PatchParams::default(), &Patch::Strategic(&patch))
            .await
            .with_context(|| format!("setting node {name} Ready={status}"))
    }

    async fn create_node_inner(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        ip: Option<&str>,
    ) -> Result<Node> {
        let mut all_labels: BTreeMap<String, String> =
            BTreeMap::from([("kubernetes.io/hostname".to_string(), name.to_string())]);
        all_labels.extend(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let node: Node = serde_json::from_value(json!({
            "metadata": { "name": name, "labels": all_labels },
        }))?;
        let nodes: Api<Node> = Api::all(self.client().await?);
        nodes
            .create(&PostParams::default(), &node)
            .await
            .with_context(|| format!("creating node {name}"))?;

        // A create ignores `status`: it is a subresource written on its own,
        // as a kubelet would.
        let mut addresses = vec![json!({ "type": "Hostname", "address": name })];
        if let Some(ip) = ip {
            addresses.insert(0, json!({ "type": "InternalIP", "address": ip }));
        }
        let now = k8s_openapi::jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let status = json!({
            "status": {
                "conditions": [{
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "berth test node",
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                }],
                "capacity": { "cpu": "8", "memory": "32Gi", "pods": "250" },
                "allocatable": { "cpu": "8", "memory": "32Gi", "pods": "250" },
                "addresses": addresses,
            }
        });
        nodes
            .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
            .await
            .with_context(|| format!("marking node {name} Ready"))
    }
}
