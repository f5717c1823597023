//! Scenario 6: garbage the cluster leaves behind. A node dies and is
//! deleted: the addresses its pods held are collected, after the grace
//! period, by the live node whose name sorts first. A StatefulSet is
//! deleted: its retained bindings are retired and then freed.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{ensure, Result};
use berth_cluster::{wait_for, Cluster, ClusterConfig};
use common::{deployment, records_in, stateful_set, wait_no_pods, wait_records, TIMEOUT};

const POOL: &str = "gc-pool";
const DOOMED: &str = "doomed";
const STS: &str = "gone";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_node_and_a_deleted_statefulset_leave_nothing_held() -> Result<()> {
    let mut config = ClusterConfig::nodes(3);
    // The StatefulSet stays off node-c, which dies.
    for node in config.nodes.iter_mut().take(2) {
        node.labels
            .push(("berth-test/survivor".into(), "yes".into()));
    }
    let mut cluster = Cluster::start(config).await?;
    common::create_pool(
        &cluster,
        POOL,
        "10.12.0.0/16",
        "10.12.168.101-10.12.168.130",
    )
    .await?;

    // Three pods on node-c, and a StatefulSet on node-a and node-b.
    let on_c = BTreeMap::from([("kubernetes.io/hostname", "node-c")]);
    cluster.apply(&deployment(DOOMED, POOL, 3, &on_c))?;
    let survivors = BTreeMap::from([("berth-test/survivor", "yes")]);
    cluster.apply(&stateful_set(STS, POOL, 3, &survivors))?;
    let doomed = cluster
        .wait_pods_ready("default", &format!("app={DOOMED}"), 3, TIMEOUT)
        .await?;
    let doomed = cluster.verify_pods(&doomed).await?;
    let sts = cluster
        .wait_pods_ready("default", &format!("app={STS}"), 3, TIMEOUT)
        .await?;
    let sts = cluster.verify_pods(&sts).await?;
    ensure!(records_in(&cluster, POOL).await?.len() == 6);

    // node-c dies: no DEL ever comes. Its Node object is deleted and its
    // pods are force-deleted (what the pod GC controller does for pods of
    // a node that is gone). The Deployment's new pods stay Pending: their
    // only node is gone.
    cluster.halt_node("node-c");
    cluster.kubectl(&["delete", "node", "node-c"])?;
    let gone_at = Instant::now();
    let names: Vec<&str> = doomed.iter().map(|p| p.name.as_str()).collect();
    let mut args = vec!["delete", "pod", "--force", "--grace-period=0"];
    args.extend(&names);
    cluster.kubectl(&args)?;
    ensure!(
        records_in(&cluster, POOL)
            .await?
            .iter()
            .filter(|r| r["node"] == "node-c")
            .count()
            == 3,
        "node-c's records went before any GC could have run"
    );
    wait_for("node-c's records collected", TIMEOUT, &mut [], || async {
        let left = records_in(&cluster, POOL)
            .await?
            .iter()
            .filter(|r| r["node"] == "node-c")
            .count();
        Ok((left == 0).then_some(()))
    })
    .await?;
    let waited = gone_at.elapsed();
    // The test values give a 3 s grace: nothing is freed on first sight.
    // berthd measures the grace in whole unix seconds, so it can end up
    // to a second early: 2 s is the least it may take.
    ensure!(
        waited.as_secs_f64() >= 2.0,
        "collected after {waited:?}, inside the grace period"
    );
    let log_a = cluster.node("node-a").berthd_log()?;
    ensure!(
        doomed.iter().all(|p| log_a
            .lines()
            .any(|l| l.contains("garbage collected") && l.contains(&p.container_id))),
        "node-a (first live node by name) did not collect node-c's records"
    );
    ensure!(
        !cluster
            .node("node-b")
            .berthd_log()?
            .lines()
            .any(|l| l.contains("garbage collected")),
        "node-b collected too: exactly one node may act"
    );
    // The StatefulSet's live pods on node-a and node-b were not touched.
    let after = cluster
        .wait_pods_ready("default", &format!("app={STS}"), 3, TIMEOUT)
        .await?;
    ensure!(
        cluster.verify_pods(&after).await? == sts,
        "the live StatefulSet pods changed"
    );
    cluster.kubectl(&["delete", "deployment", DOOMED])?;

    // The StatefulSet deleted: its pods go (DEL retains each ordinal's
    // binding), then GC sees the StatefulSet gone, retires the identities
    // and, with the chart's holdAfterScaleDown 0s, they are freed.
    cluster.kubectl(&["delete", "sts", STS])?;
    wait_no_pods(&cluster, STS).await?;
    wait_records(&cluster, POOL, 0).await?;
    cluster.wait_pool_counts(POOL, 0, 30).await?;
    let retired = cluster
        .nodes()
        .iter()
        .map(|n| n.berthd_log())
        .collect::<Result<Vec<_>>>()?
        .join("\n")
        .lines()
        .filter(|l| l.contains("garbage collected") && l.contains("Retire"))
        .count();
    ensure!(
        retired == 3,
        "{retired} identities retired by GC, expected 3"
    );
    cluster.assert_no_forbidden()?;
    Ok(())
}
