//! Spiderpool's objects as its controller and agent leave them: a
//! SpiderIPPool whose status lists its allocations, and one
//! SpiderEndpoint per pod (same namespace and name) recording the pod's
//! UID, node, interface and address.

#![allow(dead_code)]

use anyhow::{Context, Result};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::Client;
use kubectl_berth::migrate::spider::{SpiderEndpoint, SpiderIPPool, SpiderReservedIP};
use serde_json::{json, Value};

/// One allocation: the pod (namespace, name, uid), its address and node,
/// and its top controller as Spiderpool records it.
#[derive(Debug, Clone)]
pub struct Allocation {
    pub namespace: String,
    pub pod: String,
    pub uid: String,
    pub ip: String,
    pub node: String,
    pub owner_kind: String,
    pub owner_name: String,
}

pub async fn create_pool(client: &Client, name: &str, spec: Value) -> Result<SpiderIPPool> {
    let pool: SpiderIPPool = serde_json::from_value(json!({
        "apiVersion": "spiderpool.spidernet.io/v2beta1",
        "kind": "SpiderIPPool",
        "metadata": { "name": name },
        "spec": spec,
    }))?;
    Ok(Api::<SpiderIPPool>::all(client.clone())
        .create(&PostParams::default(), &pool)
        .await?)
}

/// Writes what the agent writes at each allocation: the endpoint, and
/// the pool's status listing every allocation (`allocatedIPs` is a JSON
/// object in a string, address → pod and its UID).
pub async fn allocate(
    client: &Client,
    pool: &str,
    prefix: u8,
    total: i64,
    allocations: &[Allocation],
) -> Result<()> {
    for a in allocations {
        let endpoint: SpiderEndpoint = serde_json::from_value(json!({
            "apiVersion": "spiderpool.spidernet.io/v2beta1",
            "kind": "SpiderEndpoint",
            "metadata": { "name": a.pod, "namespace": a.namespace },
            "status": {
                "current": {
                    "uid": a.uid,
                    "node": a.node,
                    "ips": [{
                        "interface": "eth0",
                        "ipv4": format!("{}/{prefix}", a.ip),
                        "ipv4Pool": pool,
                        "vlan": 0,
                    }],
                },
                "ownerControllerType": a.owner_kind,
                "ownerControllerName": a.owner_name,
            },
        }))?;
        Api::<SpiderEndpoint>::namespaced(client.clone(), &a.namespace)
            .create(&PostParams::default(), &endpoint)
            .await
            .with_context(|| format!("creating SpiderEndpoint {}/{}", a.namespace, a.pod))?;
    }
    set_pool_status(client, pool, total, allocations).await
}

pub async fn set_pool_status(
    client: &Client,
    pool: &str,
    total: i64,
    allocations: &[Allocation],
) -> Result<()> {
    let listed: serde_json::Map<String, Value> = allocations
        .iter()
        .map(|a| {
            (
                a.ip.clone(),
                json!({ "pod": format!("{}/{}", a.namespace, a.pod), "podUid": a.uid }),
            )
        })
        .collect();
    let status = json!({ "status": {
        "allocatedIPs": Value::Object(listed).to_string(),
        "allocatedIPCount": allocations.len(),
        "totalIPCount": total,
    }});
    Api::<SpiderIPPool>::all(client.clone())
        .patch_status(pool, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .with_context(|| format!("writing SpiderIPPool {pool} status"))?;
    Ok(())
}

pub async fn reserve(client: &Client, name: &str, ips: &[&str]) -> Result<()> {
    let reserved: SpiderReservedIP = serde_json::from_value(json!({
        "apiVersion": "spiderpool.spidernet.io/v2beta1",
        "kind": "SpiderReservedIP",
        "metadata": { "name": name },
        "spec": { "ipVersion": 4, "ips": ips },
    }))?;
    Api::<SpiderReservedIP>::all(client.clone())
        .create(&PostParams::default(), &reserved)
        .await?;
    Ok(())
}

/// berthd's config as the chart renders it, in the ConfigMap the chart
/// creates (`kube-system/berth-config`), for clusters without the chart.
pub async fn berth_config(client: &Client, hold_after_scale_down: &str) -> Result<()> {
    let config = json!({
        "policies": [{
            "name": "sticky-statefulset",
            "builtin": "sticky-statefulset",
            "settings": { "holdAfterScaleDown": hold_after_scale_down },
            "failurePolicy": "Fail",
        }],
    });
    let map: k8s_openapi::api::core::v1::ConfigMap = serde_json::from_value(json!({
        "metadata": { "name": "berth-config", "namespace": "kube-system" },
        "data": { "berthd.json": config.to_string() },
    }))?;
    Api::<k8s_openapi::api::core::v1::ConfigMap>::namespaced(client.clone(), "kube-system")
        .create(&PostParams::default(), &map)
        .await?;
    Ok(())
}
