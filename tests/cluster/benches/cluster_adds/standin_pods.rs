//! What the controllers and the scheduler would create in the stand-in
//! run: the workload objects, ReplicaSets for the Deployments, and every
//! pod with its owner reference and node.

use anyhow::{bail, Context, Result};
use futures::StreamExt;
use serde_json::{json, Value};

use crate::report::RunShape;
use crate::workloads::{self, Kind, NAMESPACE};

/// Pod creates in flight at once (the controllers' work).
const CREATES_IN_FLIGHT: usize = 16;

/// The workload objects, then every pod as its controller would make
/// it; the number of pods created.
pub async fn create_workloads(
    client: &kube::Client,
    shape: RunShape,
    nodes: &[String],
) -> Result<usize> {
    let ns = format!("/namespaces/{NAMESPACE}");
    let mut pods = Vec::new();
    for w in workloads::plan(shape.pods) {
        let object = workloads::object(&w);
        let (owner_kind, owner_name, owner_uid) = match w.kind {
            Kind::Deployment => {
                let d = post(
                    client,
                    &format!("/apis/apps/v1{ns}/deployments"),
                    object.clone(),
                )
                .await?;
                let rs_name = format!("{}-bench", w.name);
                let rs = json!({
                    "apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": { "name": rs_name, "namespace": NAMESPACE,
                        "ownerReferences": [owner("Deployment", &w.name, &d)] },
                    "spec": object["spec"],
                });
                let rs = post(client, &format!("/apis/apps/v1{ns}/replicasets"), rs).await?;
                ("ReplicaSet", rs_name, rs)
            }
            Kind::StatefulSet => {
                let s = post(
                    client,
                    &format!("/apis/apps/v1{ns}/statefulsets"),
                    object.clone(),
                )
                .await?;
                ("StatefulSet", w.name.clone(), s)
            }
        };
        for i in 0..w.replicas {
            let mut pod = workloads::pod_template(&w.name);
            let name = match w.kind {
                Kind::Deployment => format!("{owner_name}-{i}"),
                Kind::StatefulSet => {
                    let name = format!("{}-{i}", w.name);
                    pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] = json!(name);
                    pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"] =
                        json!(i.to_string());
                    name
                }
            };
            pod["apiVersion"] = json!("v1");
            pod["kind"] = json!("Pod");
            pod["metadata"]["name"] = json!(name);
            pod["metadata"]["namespace"] = json!(NAMESPACE);
            pod["metadata"]["ownerReferences"] =
                json!([owner(owner_kind, &owner_name, &owner_uid)]);
            pod["spec"]["nodeName"] = json!(nodes[pods.len() % nodes.len()]);
            pods.push(pod);
        }
    }
    let path = format!("/api/v1{ns}/pods");
    let created: Vec<Result<Value>> = futures::stream::iter(pods)
        .map(|pod| post(client, &path, pod))
        .buffer_unordered(CREATES_IN_FLIGHT)
        .collect()
        .await;
    let ok = created.iter().filter(|r| r.is_ok()).count();
    if let Some(Err(e)) = created.into_iter().find(Result::is_err) {
        bail!("{ok} pods created, then: {e:#}");
    }
    Ok(ok)
}

fn owner(kind: &str, name: &str, object: &Value) -> Value {
    json!({ "apiVersion": "apps/v1", "kind": kind, "name": name,
            "uid": object["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true })
}

/// POST `body` to `path`; the created object.
pub async fn post(client: &kube::Client, path: &str, body: Value) -> Result<Value> {
    let request = http::Request::post(path)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body)?)?;
    client
        .request::<Value>(request)
        .await
        .with_context(|| format!("POST {path}"))
}
