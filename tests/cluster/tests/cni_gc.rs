//! Scenario 4: CNI GC on one node while the other nodes hold live
//! attachments. In Kubernetes mode every node's berthd sees every node's
//! records; a GC names only the attachments of the node that runs it, so
//! only that node's stale attachments may go.

mod common;

use std::collections::BTreeMap;

use anyhow::{ensure, Context, Result};
use berth_cluster::{wait_for, Cluster, ClusterConfig, PodAddress};
use common::{deployment, ready_pods, records_in, TIMEOUT};
use serde_json::json;

const POOL: &str = "gc-pool";
const APP: &str = "gc-web";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cni_gc_on_one_node_releases_only_its_own_stale_attachments() -> Result<()> {
    // berthd's own GC would also collect a pod that is gone; with a long
    // grace it stays out of the way, so whatever goes went by CNI GC.
    let config =
        ClusterConfig::nodes(3).with_values(json!({ "kubernetes": { "gcGraceSecs": 3600 } }));
    let cluster = Cluster::start(config).await?;
    common::create_pool(&cluster, POOL, "10.8.0.0/16", "10.8.168.101-10.8.168.140").await?;
    cluster.apply(&deployment(APP, POOL, 6, &BTreeMap::new()))?;
    let pods = cluster
        .wait_pods_ready("default", &format!("app={APP}"), 6, TIMEOUT)
        .await?;
    let live = cluster.verify_pods(&pods).await?;
    for node in ["node-a", "node-b", "node-c"] {
        ensure!(
            live.iter().filter(|p| p.node == node).count() == 2,
            "not spread: {live:?}"
        );
    }

    // A lost DEL on node-a and on node-b: the kubelet forgets a sandbox
    // and the pod is deleted; berthd still holds both addresses.
    let stale_a = lose_del(&cluster, &live, "node-a").await?;
    let stale_b = lose_del(&cluster, &live, "node-b").await?;
    let pods = cluster
        .wait_pods_ready("default", &format!("app={APP}"), 6, TIMEOUT)
        .await?;
    let live = cluster.verify_pods(&pods).await?;
    ensure!(
        records_in(&cluster, POOL).await?.len() == 8,
        "6 live + 2 stale records expected"
    );

    // GC on node-a: its stale attachment goes, nothing else does.
    cluster.node("node-a").kubelet().cni_gc().await?;
    ensure!(
        cluster.records_of(&stale_a.ip).await?.is_empty(),
        "node-a's GC kept its stale {stale_a:?}"
    );
    let b_record = cluster.records_of(&stale_b.ip).await?;
    ensure!(
        b_record.len() == 1
            && b_record[0]["spec"]["attachment"]["containerId"] == stale_b.container_id.as_str(),
        "node-a's GC touched node-b's record: {b_record:?}"
    );
    cluster
        .verify_pods(&pods)
        .await
        .context("a live attachment was lost to node-a's GC")?;
    ensure!(records_in(&cluster, POOL).await?.len() == 7);

    // GC on node-c, which has nothing stale: nothing changes.
    cluster.node("node-c").kubelet().cni_gc().await?;
    ensure!(
        records_in(&cluster, POOL).await?.len() == 7,
        "node-c's GC released something"
    );
    ensure!(cluster.records_of(&stale_b.ip).await?.len() == 1);

    // GC on node-b: its stale attachment goes.
    cluster.node("node-b").kubelet().cni_gc().await?;
    ensure!(
        cluster.records_of(&stale_b.ip).await?.is_empty(),
        "node-b's GC kept {stale_b:?}"
    );
    let after = cluster.verify_pods(&pods).await?;
    ensure!(after == live, "live pods changed: {live:?} -> {after:?}");
    ensure!(records_in(&cluster, POOL).await?.len() == 6);
    cluster.wait_pool_counts(POOL, 6, 40).await?;
    cluster.verify_single_owners().await?;
    cluster.assert_no_forbidden()?;
    Ok(())
}

/// Forgets one of `node`'s pods without DEL and deletes the pod object;
/// returns what berthd still holds for it.
async fn lose_del(cluster: &Cluster, live: &[PodAddress], node: &str) -> Result<PodAddress> {
    let victim = live
        .iter()
        .find(|p| p.node == node)
        .context("no pod there")?
        .clone();
    let forgotten = cluster
        .node(node)
        .kubelet()
        .forget_pod("default", &victim.name)?;
    ensure!(forgotten == victim.container_id);
    cluster.kubectl(&["delete", "pod", &victim.name])?;
    let records = cluster.records_of(&victim.ip).await?;
    ensure!(
        records.len() == 1
            && records[0]["spec"]["attachment"]["containerId"] == victim.container_id.as_str(),
        "the lost DEL should leave {victim:?} held: {records:?}"
    );
    wait_for("the pod replaced", TIMEOUT, &mut [], || async {
        let pods = ready_pods(cluster, APP).await?;
        Ok((pods.len() == 6
            && pods
                .iter()
                .all(|p| p.metadata.name.as_deref() != Some(&victim.name)))
        .then_some(()))
    })
    .await?;
    Ok(victim)
}
