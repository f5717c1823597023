//! Scenario 3: two, then three nodes allocating from one pool at the same
//! time (Deployments spread over the nodes), then all of it churned at
//! once. No address may ever have two owners: checked in the BerthAddress
//! objects and in every pod's network namespace.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{ensure, Result};
use berth_cluster::{Cluster, ClusterConfig};
use common::{deployment, records_in, TIMEOUT};

const POOL: &str = "shared";
const PAIR: &str = "pair";
const TRIO: &str = "trio";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_allocating_from_one_pool_never_share_an_address() -> Result<()> {
    let mut config = ClusterConfig::nodes(3);
    // node-a and node-b form the pair the first Deployment is spread over.
    for node in config.nodes.iter_mut().take(2) {
        node.labels.push(("berth-test/pair".into(), "yes".into()));
    }
    let cluster = Cluster::start(config).await?;
    common::create_pool(&cluster, POOL, "10.9.0.0/16", "10.9.168.101-10.9.168.140").await?;

    // Two nodes at once.
    let pair_selector = BTreeMap::from([("berth-test/pair", "yes")]);
    cluster.apply(&deployment(PAIR, POOL, 14, &pair_selector))?;
    let pair = cluster
        .wait_pods_ready("default", &format!("app={PAIR}"), 14, TIMEOUT)
        .await?;
    let pair = cluster.verify_pods(&pair).await?;
    spread(
        &pair.iter().map(|p| p.node.as_str()).collect(),
        &["node-a", "node-b"],
    )?;
    cluster.verify_single_owners().await?;

    // Three nodes at once, while the pair holds its addresses.
    cluster.apply(&deployment(TRIO, POOL, 18, &BTreeMap::new()))?;
    let trio = cluster
        .wait_pods_ready("default", &format!("app={TRIO}"), 18, TIMEOUT)
        .await?;
    let trio = cluster.verify_pods(&trio).await?;
    spread(
        &trio.iter().map(|p| p.node.as_str()).collect(),
        &["node-a", "node-b", "node-c"],
    )?;
    let configured = cluster.verify_single_owners().await?;
    ensure!(
        configured == 32,
        "{configured} addresses configured, expected 32"
    );
    ensure!(records_in(&cluster, POOL).await?.len() == 32);
    cluster.wait_pool_counts(POOL, 32, 40).await?;

    // Every pod of both re-created at once: 32 DELs and 32 ADDs over three
    // nodes in the same moments, the pool 80 % full.
    cluster.kubectl(&[
        "delete",
        "pods",
        "-l",
        &format!("app in ({PAIR},{TRIO})"),
        "--wait=false",
    ])?;
    let pair = cluster
        .wait_pods_ready("default", &format!("app={PAIR}"), 14, TIMEOUT)
        .await?;
    let trio = cluster
        .wait_pods_ready("default", &format!("app={TRIO}"), 18, TIMEOUT)
        .await?;
    let old: BTreeSet<String> = pair
        .iter()
        .chain(&trio)
        .filter_map(|p| p.metadata.uid.clone())
        .collect();
    cluster.verify_pods(&pair).await?;
    cluster.verify_pods(&trio).await?;
    ensure!(cluster.verify_single_owners().await? == 32);
    common::wait_records(&cluster, POOL, 32).await?;
    cluster.wait_pool_counts(POOL, 32, 40).await?;
    ensure!(old.len() == 32);

    // Scaled to zero: every address comes back.
    cluster.kubectl(&["scale", "deployment", PAIR, TRIO, "--replicas", "0"])?;
    common::wait_no_pods(&cluster, PAIR).await?;
    common::wait_no_pods(&cluster, TRIO).await?;
    common::wait_records(&cluster, POOL, 0).await?;
    cluster.wait_pool_counts(POOL, 0, 40).await?;
    cluster.assert_no_forbidden()?;
    Ok(())
}

/// Every node of `expected` got pods, and no other node did.
fn spread(nodes: &BTreeSet<&str>, expected: &[&str]) -> Result<()> {
    let expected: BTreeSet<&str> = expected.iter().copied().collect();
    ensure!(
        *nodes == expected,
        "pods landed on {nodes:?}, expected {expected:?}"
    );
    Ok(())
}
