//! Scenario 2: `holdAfterScaleDown`, set in the sticky policy's settings
//! through the Helm values. A StatefulSet scaled 5 → 0 keeps its five
//! addresses held while another workload competes for the pool (it gets
//! only the free ones and keeps retrying for more); scaled back to 5,
//! every ordinal gets its own address back.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{ensure, Result};
use berth_cluster::{wait_for, Cluster, ClusterConfig};
use common::{deployment, ready_pods, records_in, stateful_set, wait_no_pods, TIMEOUT};
use serde_json::json;

const POOL: &str = "hold-pool";
const STS: &str = "keeper";
const RIVAL: &str = "rival";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaled_away_ordinals_get_their_addresses_back() -> Result<()> {
    let values = json!({
        "policies": [{
            "name": "sticky-statefulset",
            "builtin": "sticky-statefulset",
            "settings": { "holdAfterScaleDown": "10m" },
            "failurePolicy": "Fail",
        }],
    });
    let cluster = Cluster::start(ClusterConfig::nodes(2).with_values(values)).await?;
    let config =
        std::fs::read_to_string(cluster.nodes()[0].dir.join("volumes/config/berthd.json"))?;
    ensure!(
        config.contains("\"holdAfterScaleDown\": \"10m\""),
        "the values did not reach berthd.json: {config}"
    );
    // Seven addresses: five for the StatefulSet, two to compete for.
    common::create_pool(
        &cluster,
        POOL,
        "10.11.0.0/16",
        "10.11.168.101-10.11.168.107",
    )
    .await?;

    cluster.apply(&stateful_set(STS, POOL, 5, &BTreeMap::new()))?;
    let pods = cluster
        .wait_pods_ready("default", &format!("app={STS}"), 5, TIMEOUT)
        .await?;
    let before: BTreeMap<String, String> = cluster
        .verify_pods(&pods)
        .await?
        .into_iter()
        .map(|p| (p.name, p.ip))
        .collect();

    // 5 → 0: the ordinals are scaled away; GC retires them and the hold
    // (10 minutes) starts. The addresses stay held, by identity.
    cluster.kubectl(&["scale", "sts", STS, "--replicas", "0"])?;
    wait_no_pods(&cluster, STS).await?;
    wait_for(
        "five retired, held identities",
        TIMEOUT,
        &mut [],
        || async {
            let records = records_in(&cluster, POOL).await?;
            let held = records
                .iter()
                .filter(|r| r["state"] == "Retained" && r["expiresAtUnixSecs"].is_u64())
                .count();
            Ok((records.len() == 5 && held == 5).then_some(()))
        },
    )
    .await?;

    let failed_before = cluster.adds_failed();
    // A rival wants four addresses: it gets the two free ones, never a
    // held one; its other two pods keep failing their ADDs and retrying.
    cluster.apply(&deployment(RIVAL, POOL, 4, &BTreeMap::new()))?;
    let rival = wait_for("two rival pods addressed", TIMEOUT, &mut [], || async {
        let ready = ready_pods(&cluster, RIVAL).await?;
        Ok((ready.len() == 2).then_some(ready))
    })
    .await?;
    let held: BTreeSet<&String> = before.values().collect();
    for pod in cluster.verify_pods(&rival).await? {
        ensure!(
            !held.contains(&pod.ip),
            "the rival {} got held {}",
            pod.name,
            pod.ip
        );
    }
    wait_for(
        "the rival's other pods failing",
        TIMEOUT,
        &mut [],
        || async {
            let failed = cluster.adds_failed();
            Ok((failed >= failed_before + 2).then_some(()))
        },
    )
    .await?;
    cluster.wait_pool_counts(POOL, 7, 7).await?;

    // 0 → 5 while the rival still retries: every ordinal gets its address.
    cluster.kubectl(&["scale", "sts", STS, "--replicas", "5"])?;
    let pods = cluster
        .wait_pods_ready("default", &format!("app={STS}"), 5, TIMEOUT)
        .await?;
    let after: BTreeMap<String, String> = cluster
        .verify_pods(&pods)
        .await?
        .into_iter()
        .map(|p| (p.name, p.ip))
        .collect();
    ensure!(
        before == after,
        "addresses changed over 5 -> 0 -> 5: {before:?} -> {after:?}"
    );
    ensure!(
        ready_pods(&cluster, RIVAL).await?.len() == 2,
        "the rival took an address back"
    );

    // Once the rival goes, its pending pods are gone too.
    cluster.kubectl(&["delete", "deployment", RIVAL])?;
    wait_no_pods(&cluster, RIVAL).await?;
    common::wait_records(&cluster, POOL, 5).await?;
    cluster.verify_single_owners().await?;
    cluster.assert_no_forbidden()?;
    Ok(())
}
