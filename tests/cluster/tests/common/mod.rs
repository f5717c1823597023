//! Workloads and waits the scenarios share.

// Each scenario binary uses a different subset.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result};
use berth_cluster::{is_ready, wait_for, Cluster, PodAddress};
use k8s_openapi::api::core::v1::Pod;
use serde_json::{json, Value};

pub const TIMEOUT: Duration = Duration::from_secs(120);

/// A BerthPool `name` of `subnet` with the address range `range`.
pub fn pool(name: &str, subnet: &str, range: &str) -> Value {
    json!({
        "apiVersion": "berth.io/v1alpha1",
        "kind": "BerthPool",
        "metadata": { "name": name },
        "spec": { "subnet": subnet, "ips": [range] },
    })
}

fn template(app: &str, pool: &str, node_selector: &BTreeMap<&str, &str>) -> Value {
    json!({
        "metadata": {
            "labels": { "app": app },
            "annotations": { "berth.io/ippool": pool },
        },
        "spec": {
            "nodeSelector": node_selector,
            "terminationGracePeriodSeconds": 1,
            "containers": [{ "name": app, "image": "example.invalid/app:1" }],
        },
    })
}

/// A Deployment of `replicas` pods labelled `app=<name>` on `pool`.
pub fn deployment(
    name: &str,
    pool: &str,
    replicas: u32,
    node_selector: &BTreeMap<&str, &str>,
) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": name, "namespace": "default" },
        "spec": {
            "replicas": replicas,
            "selector": { "matchLabels": { "app": name } },
            "template": template(name, pool, node_selector),
        },
    })
}

/// A StatefulSet of `replicas` pods labelled `app=<name>` on `pool`.
pub fn stateful_set(
    name: &str,
    pool: &str,
    replicas: u32,
    node_selector: &BTreeMap<&str, &str>,
) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": { "name": name, "namespace": "default" },
        "spec": {
            "serviceName": name,
            "replicas": replicas,
            "selector": { "matchLabels": { "app": name } },
            "template": template(name, pool, node_selector),
        },
    })
}

/// A pod of its own (no controller re-creates or deletes it) labelled
/// `app=<name>`, on `pool`, bound to `node`.
pub fn bare_pod(name: &str, pool: &str, node: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "default",
            "labels": { "app": name },
            "annotations": { "berth.io/ippool": pool },
        },
        "spec": {
            "nodeSelector": { "kubernetes.io/hostname": node },
            "terminationGracePeriodSeconds": 1,
            "containers": [{ "name": "c", "image": "example.invalid/app:1" }],
        },
    })
}

/// The one pod with `app=<app>`, once Running and Ready, checked against
/// every view ([`Cluster::verify_pods`]).
pub async fn running(cluster: &Cluster, app: &str) -> Result<PodAddress> {
    let pods = cluster
        .wait_pods_ready("default", &format!("app={app}"), 1, TIMEOUT)
        .await?;
    cluster.verify_pods(&pods).await?.pop().context("no pod")
}

/// The pods with `app=<app>` that are Running and Ready.
pub async fn ready_pods(cluster: &Cluster, app: &str) -> Result<Vec<Pod>> {
    Ok(cluster
        .pods("default", &format!("app={app}"))
        .await?
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none() && is_ready(p))
        .collect())
}

/// Waits until no pod has `app=<app>`.
pub async fn wait_no_pods(cluster: &Cluster, app: &str) -> Result<()> {
    wait_for(&format!("no pods app={app}"), TIMEOUT, &mut [], || async {
        Ok(cluster
            .pods("default", &format!("app={app}"))
            .await?
            .is_empty()
            .then_some(()))
    })
    .await
}

/// The BerthAddress specs of pool `pool`.
pub async fn records_in(cluster: &Cluster, pool: &str) -> Result<Vec<Value>> {
    Ok(cluster
        .berth_addresses()
        .await?
        .into_iter()
        .map(|r| r["spec"].clone())
        .filter(|s| s["pool"] == pool)
        .collect())
}

/// Waits until pool `pool` has exactly `n` BerthAddress objects.
pub async fn wait_records(cluster: &Cluster, pool: &str, n: usize) -> Result<()> {
    wait_for(
        &format!("{n} records in {pool}"),
        TIMEOUT,
        &mut [],
        || async { Ok((records_in(cluster, pool).await?.len() == n).then_some(())) },
    )
    .await
}

/// Applies BerthPool `pool` and waits until every node's berthd lists it
/// (`berthd pools` in its container): pods created earlier would fail
/// their first ADDs with "unknown pool" until the next pool sync.
pub async fn create_pool(cluster: &Cluster, name: &str, subnet: &str, range: &str) -> Result<()> {
    cluster.apply(&pool(name, subnet, range))?;
    cluster.wait_pool_known(name, TIMEOUT).await
}
