//! The bench's workloads: half the pods in Deployments, half in
//! StatefulSets, all on one BerthPool, labelled `bench=cluster-adds`.

use serde_json::{json, Value};

pub const NAMESPACE: &str = "default";
pub const SELECTOR: &str = "bench=cluster-adds";
pub const POOL: &str = "bench";
/// 4,094 addresses: room for every pod with the pool far from full.
pub const SUBNET: &str = "10.20.0.0/16";
pub const RANGE: &str = "10.20.0.1-10.20.15.254";
/// Pods per workload; the count of workloads follows from the pod total.
pub const REPLICAS: usize = 50;

pub fn pool() -> Value {
    json!({
        "apiVersion": "berth.io/v1alpha1",
        "kind": "BerthPool",
        "metadata": { "name": POOL },
        "spec": { "subnet": SUBNET, "ips": [RANGE] },
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Deployment,
    StatefulSet,
}

/// One workload: its kind, name and replica count.
#[derive(Debug, Clone)]
pub struct Workload {
    pub kind: Kind,
    pub name: String,
    pub replicas: usize,
}

/// Workloads for `pods` pods: Deployments and StatefulSets taking turns,
/// [`REPLICAS`] pods each (the last one takes the remainder).
pub fn plan(pods: usize) -> Vec<Workload> {
    let mut out = Vec::new();
    let mut left = pods;
    while left > 0 {
        let replicas = left.min(REPLICAS);
        let (kind, prefix) = if out.len() % 2 == 0 {
            (Kind::Deployment, "web")
        } else {
            (Kind::StatefulSet, "db")
        };
        out.push(Workload {
            kind,
            name: format!("{prefix}-{}", out.len()),
            replicas,
        });
        left -= replicas;
    }
    out
}

pub fn pod_template(app: &str) -> Value {
    json!({
        "metadata": {
            "labels": { "app": app, "bench": "cluster-adds" },
            "annotations": { "berth.io/ippool": POOL },
        },
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{ "name": "app", "image": "example.invalid/app:1" }],
        },
    })
}

/// The Deployment or StatefulSet object. StatefulSets start their pods in
/// parallel: with the default OrderedReady each pod would wait for the
/// one before it to be Ready, and the bench would measure that ordering.
pub fn object(w: &Workload) -> Value {
    let spec = json!({
        "replicas": w.replicas,
        "selector": { "matchLabels": { "app": w.name } },
        "template": pod_template(&w.name),
    });
    match w.kind {
        Kind::Deployment => json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": { "name": w.name, "namespace": NAMESPACE },
            "spec": spec,
        }),
        Kind::StatefulSet => {
            let mut spec = spec;
            spec["serviceName"] = json!(w.name);
            spec["podManagementPolicy"] = json!("Parallel");
            json!({
                "apiVersion": "apps/v1", "kind": "StatefulSet",
                "metadata": { "name": w.name, "namespace": NAMESPACE },
                "spec": spec,
            })
        }
    }
}
