//! Scenario 5: berthd SIGKILLed on one node while ADDs are in flight, then
//! restarted the way the kubelet restarts a crashed container (same
//! command, same volumes, no init containers). Every ADD that succeeded is
//! still held by its pod; the ADDs that failed while berthd was down are
//! retried (DEL first, then a new sandbox) and succeed; nothing leaks.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use berth_cluster::{wait_for, Cluster, ClusterConfig};
use common::{deployment, records_in, wait_records, TIMEOUT};

const POOL: &str = "crash-pool";
const APP: &str = "crash";
const REPLICAS: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adds_survive_a_berthd_sigkill() -> Result<()> {
    let cluster = Cluster::start(ClusterConfig::nodes(2)).await?;
    common::create_pool(
        &cluster,
        POOL,
        "10.10.0.0/16",
        "10.10.168.101-10.10.168.140",
    )
    .await?;
    let node = cluster.node("node-b");
    let kubelet = node.kubelet();

    let on_b = BTreeMap::from([("kubernetes.io/hostname", "node-b")]);
    cluster.apply(&deployment(APP, POOL, REPLICAS as u32, &on_b))?;
    // Kill while some ADDs have returned and others are in flight. An ADD
    // takes tens of milliseconds, so the kubelet's counters (in memory)
    // are watched closely rather than at the usual poll interval.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let s = kubelet.stats();
        if s.adds_ok >= 3 && s.adds_started > s.adds_ok + s.adds_failed {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "never saw an ADD in flight: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let old_pid = node.kill_berthd()?;
    let at_kill = kubelet.history();
    eprintln!(
        "killed berthd {old_pid} after {} ADDs: {:?}",
        at_kill.len(),
        kubelet.stats()
    );

    // While it is down, ADDs fail (the plugin answers "try again later").
    wait_for(
        "ADDs failing while berthd is down",
        TIMEOUT,
        &mut [],
        || async { Ok((kubelet.stats().adds_failed >= 1).then_some(())) },
    )
    .await?;
    node.start_berthd().await?;
    ensure!(node.berthd_pid() != Some(old_pid));

    let pods = cluster
        .wait_pods_ready("default", &format!("app={APP}"), REPLICAS, TIMEOUT)
        .await?;
    let live = cluster.verify_pods(&pods).await?;
    // Every ADD acknowledged before the kill is still held, by the same
    // sandbox, at the same address.
    for add in &at_kill {
        let now = live.iter().find(|p| p.container_id == add.container_id);
        ensure!(
            now.is_some_and(|p| Some(&p.ip) == add.ips.first()),
            "the ADD of {} ({} {:?}) acknowledged before the kill is not held: {now:?}",
            add.pod,
            add.container_id,
            add.ips
        );
    }
    // Whatever the killed berthd committed for a failed ADD was released
    // by that sandbox's DEL: exactly one record per pod remains.
    wait_records(&cluster, POOL, REPLICAS).await?;
    let stats = kubelet.stats();
    ensure!(
        stats.adds_failed >= 1 && stats.adds_ok as usize >= REPLICAS,
        "{stats:?}"
    );
    ensure!(records_in(&cluster, POOL).await?.len() == REPLICAS);
    cluster.verify_single_owners().await?;
    cluster.wait_pool_counts(POOL, REPLICAS as u32, 40).await?;

    // The restarted berthd serves DEL and ADD as before.
    cluster.kubectl(&[
        "delete",
        "pods",
        "-l",
        &format!("app={APP}"),
        "--wait=false",
    ])?;
    let pods = cluster
        .wait_pods_ready("default", &format!("app={APP}"), REPLICAS, TIMEOUT)
        .await?;
    cluster.verify_pods(&pods).await?;
    wait_records(&cluster, POOL, REPLICAS).await?;
    let log = node.berthd_log()?;
    ensure!(
        log.matches("state restored").count() == 2,
        "berthd did not start twice"
    );
    cluster.assert_no_forbidden()?;
    Ok(())
}
