//! Issue 10, item 4: `disable: true` on a BerthPool, on every node. The
//! pool hands out nothing new (a new Deployment pod's ADD fails, naming
//! the pool), while what it holds stays: a running pod keeps its address
//! and a re-created StatefulSet pod gets its own back. Enabled again, the
//! waiting pod is served.

mod common;

use std::collections::BTreeMap;

use anyhow::{ensure, Result};
use berth_cluster::{wait_for, Cluster, ClusterConfig};
use common::{deployment, ready_pods, records_in, stateful_set, TIMEOUT};
use serde_json::json;

const POOL: &str = "off-pool";

/// Sets `disable` on the pool and waits until every node's berthd reads it.
async fn set_disabled(cluster: &Cluster, disabled: bool) -> Result<()> {
    let patch = json!({ "spec": { "disable": disabled } }).to_string();
    cluster.kubectl(&["patch", "berthpool", POOL, "--type=merge", "-p", &patch])?;
    for node in cluster.nodes() {
        wait_for(
            &format!("{POOL} disable={disabled} on {}", node.name),
            TIMEOUT,
            &mut [],
            || async {
                let pools = node.berthd_cli(&["pools"]).await?;
                let marked = pools.contains(&format!("{POOL} (disabled)"));
                Ok((marked == disabled).then_some(()))
            },
        )
        .await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_pool_keeps_what_it_holds_and_hands_out_nothing_new() -> Result<()> {
    let cluster = Cluster::start(ClusterConfig::nodes(2)).await?;
    common::create_pool(
        &cluster,
        POOL,
        "10.14.0.0/16",
        "10.14.168.101-10.14.168.110",
    )
    .await?;
    let anywhere = BTreeMap::new();
    cluster.apply(&stateful_set("db", POOL, 2, &anywhere))?;
    cluster.apply(&deployment("web", POOL, 1, &anywhere))?;
    let db = cluster
        .wait_pods_ready("default", "app=db", 2, TIMEOUT)
        .await?;
    let db = cluster.verify_pods(&db).await?;
    let web = cluster
        .wait_pods_ready("default", "app=web", 1, TIMEOUT)
        .await?;
    let web = cluster.verify_pods(&web).await?;
    let before: BTreeMap<String, String> =
        db.iter().map(|p| (p.name.clone(), p.ip.clone())).collect();

    set_disabled(&cluster, true).await?;

    // Every StatefulSet pod re-created (new UIDs): the same addresses.
    cluster.kubectl(&["delete", "pods", "-l", "app=db", "--wait=false"])?;
    wait_for("db re-created", TIMEOUT, &mut [], || async {
        let pods = ready_pods(&cluster, "db").await?;
        let fresh = pods.len() == 2
            && pods.iter().all(|p| {
                db.iter()
                    .all(|old| p.metadata.uid.as_deref() != Some(old.uid.as_str()))
            });
        Ok(fresh.then_some(pods))
    })
    .await?;
    let again = cluster
        .verify_pods(&ready_pods(&cluster, "db").await?)
        .await?;
    let after: BTreeMap<String, String> = again
        .iter()
        .map(|p| (p.name.clone(), p.ip.clone()))
        .collect();
    ensure!(
        after == before,
        "re-created pods moved: {before:?} -> {after:?}"
    );

    // A new stateless pod gets nothing from the disabled pool.
    let failed_before = cluster.adds_failed();
    cluster.apply(&deployment("late", POOL, 1, &anywhere))?;
    wait_for("late's ADD refused", TIMEOUT, &mut [], || async {
        let mut refused = false;
        for node in cluster.nodes() {
            // A failed ADD's CNI error follows its line (timestamp, "Z ADD"),
            // as indented JSON.
            refused |= node.kubelet_log()?.split("Z ADD ").any(|entry| {
                entry.starts_with("default/late-") && entry.contains("are disabled (disable: true)")
            });
        }
        Ok(refused.then_some(()))
    })
    .await?;
    let failed_after = cluster.adds_failed();
    ensure!(failed_after > failed_before, "no ADD failed");
    ensure!(ready_pods(&cluster, "late").await?.is_empty());
    let records = records_in(&cluster, POOL).await?;
    ensure!(
        records.len() == 3 && records.iter().all(|r| r["pod"]["name"] != "late"),
        "{records:?}"
    );
    // The running Deployment pod kept its address.
    ensure!(
        cluster.records_of(&web[0].ip).await?.len() == 1,
        "web lost {}",
        web[0].ip
    );

    // Enabled again: the waiting pod is served on its kubelet's retry.
    set_disabled(&cluster, false).await?;
    let late = cluster
        .wait_pods_ready("default", "app=late", 1, TIMEOUT)
        .await?;
    cluster.verify_pods(&late).await?;
    ensure!(cluster.verify_single_owners().await? == 4);
    cluster.assert_no_forbidden()?;
    Ok(())
}
