//! Zombie pods give their addresses back (issue 10, item 8). A pod whose
//! DEL was lost and that still exists is not "gone", so before this only
//! its deletion freed its address: now a Succeeded or Failed pod, and a pod
//! Terminating past its grace period plus `gcTerminatingGraceSecs` on a
//! NotReady node, is released as its DEL would have been (a StatefulSet
//! pod's binding stays retained), by exactly one node; a Terminating pod
//! on a Ready node is left to its kubelet.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use berth_cluster::{wait_for, Cluster, ClusterConfig, PodAddress};
use common::{running, stateful_set, TIMEOUT};
use serde_json::{json, Value};

const POOL: &str = "zombie-pool";
const ZOMBIE: &str = "berth_releases_total{cause=\"zombie\"}";
const GC: &str = "berth_releases_total{cause=\"gc\"}";
/// `gcTerminatingGraceSecs` for this test (the chart's default is 300).
const TERMINATING_GRACE_SECS: u64 = 5;

/// A pod of its own (no controller would replace or delete it) on `node`,
/// never restarted, held back from deletion by a finalizer if `finalizer`.
fn bare_pod(name: &str, node: &str, finalizer: bool) -> Value {
    let finalizers: Vec<&str> = if finalizer {
        vec!["berth-test/hold"]
    } else {
        vec![]
    };
    let mut pod = common::bare_pod(name, POOL, node);
    pod["metadata"]["finalizers"] = json!(finalizers);
    pod["spec"]["restartPolicy"] = json!("Never");
    pod
}

/// Whether `pod`'s address is still held for its container.
async fn held(cluster: &Cluster, pod: &PodAddress) -> Result<bool> {
    Ok(cluster.records_of(&pod.ip).await?.iter().any(|r| {
        r["spec"]["attachment"]["containerId"] == pod.container_id.as_str()
            || r["spec"]["pod"]["name"] == pod.name.as_str()
    }))
}

/// Waits until `series` on `node`'s /metrics (a snapshot taken every
/// second) reads `want`.
async fn wait_metric(cluster: &Cluster, node: &str, series: &str, want: u64) -> Result<()> {
    wait_for(
        &format!("{series} = {want} on {node}"),
        TIMEOUT,
        &mut [],
        || async {
            let value = cluster.node(node).metric(series).await?;
            ensure!(value <= want, "{series} on {node} is {value}, over {want}");
            Ok((value == want).then_some(()))
        },
    )
    .await
}

/// The zombie release lines berthd logged on `node` for `pod`'s container.
fn zombie_lines(cluster: &Cluster, node: &str, pod: &PodAddress) -> Result<usize> {
    let log = cluster.node(node).berthd_log()?;
    Ok(log
        .lines()
        .filter(|l| l.contains("zombie pod") && l.contains(&pod.container_id))
        .count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zombie_pods_give_their_addresses_back() -> Result<()> {
    let values = json!({ "kubernetes": { "gcTerminatingGraceSecs": TERMINATING_GRACE_SECS } });
    let mut cluster = Cluster::start(ClusterConfig::nodes(3).with_values(values)).await?;
    common::create_pool(
        &cluster,
        POOL,
        "10.13.0.0/16",
        "10.13.168.101-10.13.168.140",
    )
    .await?;

    // Finished pods on node-b, a Ready node whose kubelet lost their DELs.
    for name in ["done", "crashed", "busy"] {
        cluster.apply(&bare_pod(name, "node-b", false))?;
    }
    let done = running(&cluster, "done").await?;
    let crashed = running(&cluster, "crashed").await?;
    let busy = running(&cluster, "busy").await?;
    for (pod, phase) in [(&done, "Succeeded"), (&crashed, "Failed")] {
        let forgotten = cluster
            .node("node-b")
            .kubelet()
            .forget_pod("default", &pod.name)?;
        ensure!(forgotten == pod.container_id);
        let status = json!({ "status": { "phase": phase } }).to_string();
        cluster.kubectl(&[
            "patch",
            "pod",
            &pod.name,
            "--subresource=status",
            "--type=merge",
            "-p",
            &status,
        ])?;
    }
    wait_for(
        "the finished pods' addresses released",
        TIMEOUT,
        &mut [],
        || async {
            Ok((!held(&cluster, &done).await? && !held(&cluster, &crashed).await?).then_some(()))
        },
    )
    .await?;
    ensure!(
        held(&cluster, &busy).await?,
        "the running pod lost its address"
    );
    for pod in [&done, &crashed] {
        ensure!(
            zombie_lines(&cluster, "node-b", pod)? == 1,
            "node-b did not log releasing {} once",
            pod.name
        );
        for other in ["node-a", "node-c"] {
            ensure!(
                zombie_lines(&cluster, other, pod)? == 0,
                "{other} acted on {}",
                pod.name
            );
        }
    }
    wait_metric(&cluster, "node-b", ZOMBIE, 2).await?;

    // A Terminating pod on a Ready node whose DEL was lost (a finalizer
    // keeps it Terminating): its kubelet is alive, so GC leaves it.
    cluster.apply(&bare_pod("lingering", "node-b", true))?;
    let lingering = running(&cluster, "lingering").await?;
    cluster
        .node("node-b")
        .kubelet()
        .forget_pod("default", &lingering.name)?;
    cluster.kubectl(&["delete", "pod", &lingering.name, "--wait=false"])?;

    // node-c dies with a stateless pod and a StatefulSet pod on it; its
    // Node object stays, NotReady. Deleting the pods leaves them
    // Terminating for good: no kubelet will ever finish them.
    let on_c = BTreeMap::from([("kubernetes.io/hostname", "node-c")]);
    cluster.apply(&bare_pod("stuck", "node-c", false))?;
    cluster.apply(&stateful_set("keep", POOL, 1, &on_c))?;
    let stuck = running(&cluster, "stuck").await?;
    let keep = running(&cluster, "keep").await?;
    cluster.halt_node("node-c");
    cluster
        .control_plane()
        .set_node_ready("node-c", false)
        .await?;
    let deleted_at = Instant::now();
    cluster.kubectl(&["delete", "pod", &stuck.name, &keep.name, "--wait=false"])?;
    wait_for("node-c's zombies released", TIMEOUT, &mut [], || async {
        let keep_records = cluster.records_of(&keep.ip).await?;
        let keep_retained = keep_records.len() == 1
            && keep_records[0]["spec"]["state"] == "Retained"
            && keep_records[0]["spec"]["identity"]["key"] == "default/keep/0";
        Ok((!held(&cluster, &stuck).await? && keep_retained).then_some(()))
    })
    .await?;
    let waited = deleted_at.elapsed();
    // 1 s pod grace + 5 s terminating grace + 3 s GC grace, measured by
    // berthd in whole seconds (and the deletionTimestamp has whole
    // seconds too): up to 2 s less is possible, never more.
    let least = Duration::from_secs(1 + TERMINATING_GRACE_SECS + 3 - 2);
    ensure!(
        waited >= least,
        "released after {waited:?}, before {least:?}"
    );
    for pod in [&stuck, &keep] {
        ensure!(
            zombie_lines(&cluster, "node-a", pod)? == 1,
            "node-a (first live node) did not release {} once",
            pod.name
        );
        ensure!(
            zombie_lines(&cluster, "node-b", pod)? == 0,
            "node-b acted too"
        );
    }
    // The retained binding is kept, not released: only `stuck` counts.
    wait_metric(&cluster, "node-a", ZOMBIE, 1).await?;

    // By now `lingering` has been past its grace period for longer than
    // node-c's pods; give node-b's GC (every second) a few more passes.
    tokio::time::sleep(Duration::from_secs(4)).await;
    ensure!(
        held(&cluster, &lingering).await?,
        "a Terminating pod on a Ready node lost its address"
    );
    wait_metric(&cluster, "node-b", ZOMBIE, 2).await?;

    // Its finalizer gone, the pod goes, and GC frees the address of a
    // pod that is gone, as before.
    let gc_before = cluster.node("node-b").metric(GC).await?;
    cluster.kubectl(&[
        "patch",
        "pod",
        &lingering.name,
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ])?;
    wait_for(
        "the lingering pod's address released",
        TIMEOUT,
        &mut [],
        || async { Ok((!held(&cluster, &lingering).await?).then_some(())) },
    )
    .await?;
    wait_metric(&cluster, "node-b", GC, gc_before + 1).await?;
    cluster.verify_single_owners().await?;
    cluster.assert_no_forbidden()?;
    Ok(())
}
