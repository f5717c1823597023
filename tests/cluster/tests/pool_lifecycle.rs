//! Issue 10, items 1 and 3, on the real API server with the chart's RBAC:
//!
//! * an overlapping BerthPool created later is the invalid one: its `Valid`
//!   condition (reason, message, observedGeneration) says why, and one
//!   Warning Event (events.k8s.io/v1) regards it — one, though two nodes
//!   judge every pool every second;
//! * a deleted pool that still holds addresses stays Terminating behind
//!   berthd's finalizer, its status counting them and a `Deleting`
//!   condition saying why, hands out nothing new, and goes once they are
//!   released;
//! * shrinking a pool's ranges under a held address leaves it with its pod,
//!   counted as `orphaned` with an `Orphaned` condition and a Warning
//!   Event; released, it is never handed out again.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use berth_cluster::{wait_for, Cluster, ClusterConfig};
use common::{bare_pod, running, TIMEOUT};
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ListParams};
use serde_json::{json, Value};

const FINALIZER: &str = "berth.io/held-addresses";

/// The BerthPool `name` as JSON, if it exists.
fn pool(cluster: &Cluster, name: &str) -> Result<Option<Value>> {
    match cluster.kubectl(&["get", "berthpool", name, "-o", "json"]) {
        Ok(text) => Ok(Some(serde_json::from_str(&text)?)),
        Err(e) if format!("{e:#}").contains("NotFound") => Ok(None),
        Err(e) => Err(e),
    }
}

fn condition<'a>(pool: &'a Value, type_: &str) -> Option<&'a Value> {
    pool["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

/// Events (events.k8s.io/v1) regarding BerthPool `pool` with `reason`.
async fn events(cluster: &Cluster, pool: &str, reason: &str) -> Result<Vec<Event>> {
    let api: Api<Event> = Api::all(cluster.client().await?);
    Ok(api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|e| {
            e.reason.as_deref() == Some(reason)
                && e.regarding.as_ref().is_some_and(|r| {
                    r.kind.as_deref() == Some("BerthPool") && r.name.as_deref() == Some(pool)
                })
        })
        .collect())
}

/// Waits for exactly one such Event, then checks that two nodes judging
/// the pool every second for a while still leave exactly one.
async fn one_event(cluster: &Cluster, pool: &str, reason: &str, kind: &str) -> Result<Event> {
    let first = wait_for(
        &format!("a {reason} event regarding {pool}"),
        TIMEOUT,
        &mut [],
        || async { Ok(events(cluster, pool, reason).await?.pop()) },
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let all = events(cluster, pool, reason).await?;
    ensure!(all.len() == 1, "{} {reason} events: {all:#?}", all.len());
    ensure!(first.type_.as_deref() == Some(kind), "{first:#?}");
    ensure!(
        first.reporting_controller.as_deref() == Some("berth.io/berthd"),
        "{first:#?}"
    );
    Ok(first)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pools_report_invalidity_wait_for_their_addresses_and_keep_orphans() -> Result<()> {
    let cluster = Cluster::start(ClusterConfig::nodes(2)).await?;
    invalid_pool_gets_a_condition_and_one_event(&cluster).await?;
    deletion_waits_for_held_addresses(&cluster).await?;
    shrinking_keeps_held_addresses_as_orphans(&cluster).await?;
    cluster.assert_no_forbidden()?;
    Ok(())
}

async fn invalid_pool_gets_a_condition_and_one_event(cluster: &Cluster) -> Result<()> {
    common::create_pool(cluster, "first", "10.41.0.0/16", "10.41.1.1-10.41.1.20").await?;
    // Created after `first` (and sorting after it within one second).
    cluster.apply(&common::pool(
        "late",
        "10.41.0.0/16",
        "10.41.1.10-10.41.1.30",
    ))?;
    let late = wait_for("late judged invalid", TIMEOUT, &mut [], || async {
        let late = pool(cluster, "late")?.context("late")?;
        Ok(condition(&late, "Valid")
            .is_some_and(|c| c["status"] == "False")
            .then_some(late))
    })
    .await?;
    let valid = condition(&late, "Valid").context("Valid")?;
    ensure!(valid["reason"] == "Invalid", "{valid}");
    ensure!(
        valid["message"]
            .as_str()
            .is_some_and(|m| m.contains("overlaps the addresses of pool \"first\"")),
        "{valid}"
    );
    ensure!(
        valid["observedGeneration"] == late["metadata"]["generation"],
        "{late}"
    );
    let first = pool(cluster, "first")?.context("first")?;
    ensure!(
        condition(&first, "Valid").is_some_and(|c| c["status"] == "True"),
        "{first}"
    );
    // The earlier pool keeps working.
    cluster.apply(&bare_pod("on-first", "first", "node-a"))?;
    ensure!(running(cluster, "on-first")
        .await?
        .ip
        .starts_with("10.41.1."));

    let event = one_event(cluster, "late", "InvalidPool", "Warning").await?;
    ensure!(
        event
            .note
            .as_deref()
            .is_some_and(|n| n.contains("\"first\"")),
        "{event:#?}"
    );
    let described = cluster.kubectl(&["describe", "berthpool", "late"])?;
    ensure!(
        described.contains("InvalidPool") && described.contains("overlaps the addresses"),
        "kubectl describe does not show why:\n{described}"
    );
    cluster.kubectl(&["delete", "pod", "on-first"])?;
    Ok(())
}

async fn deletion_waits_for_held_addresses(cluster: &Cluster) -> Result<()> {
    common::create_pool(cluster, "doomed", "10.42.0.0/16", "10.42.1.1-10.42.1.10").await?;
    wait_for("berthd's finalizer on doomed", TIMEOUT, &mut [], || async {
        let p = pool(cluster, "doomed")?.context("doomed")?;
        Ok(p["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f == FINALIZER))
            .then_some(()))
    })
    .await?;
    cluster.apply(&bare_pod("held-a", "doomed", "node-a"))?;
    cluster.apply(&bare_pod("held-b", "doomed", "node-b"))?;
    running(cluster, "held-a").await?;
    running(cluster, "held-b").await?;

    cluster.kubectl(&["delete", "berthpool", "doomed", "--wait=false"])?;
    let terminating = wait_for("doomed's Deleting condition", TIMEOUT, &mut [], || async {
        let p = pool(cluster, "doomed")?.context("doomed went with addresses held")?;
        Ok(condition(&p, "Deleting").is_some().then_some(p))
    })
    .await?;
    ensure!(
        terminating["metadata"]["deletionTimestamp"].is_string()
            && terminating["status"]["allocated"] == 2,
        "{terminating}"
    );
    let deleting = condition(&terminating, "Deleting").context("Deleting")?;
    ensure!(
        deleting["reason"] == "AddressesHeld"
            && deleting["message"]
                .as_str()
                .is_some_and(|m| m.contains("the 2 address(es)")),
        "{deleting}"
    );
    one_event(cluster, "doomed", "DeletionWaiting", "Normal").await?;
    let described = cluster.kubectl(&["describe", "berthpool", "doomed"])?;
    ensure!(
        described.contains("DeletionWaiting") && described.contains("deletion waits until"),
        "kubectl describe does not say why deletion waits:\n{described}"
    );

    // While deleting, the pool hands out nothing new.
    cluster.apply(&bare_pod("too-late", "doomed", "node-a"))?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let records = common::records_in(cluster, "doomed").await?;
    ensure!(
        records.len() == 2,
        "a deleting pool handed out: {records:#?}"
    );
    ensure!(pool(cluster, "doomed")?.is_some(), "doomed went early");

    cluster.kubectl(&["delete", "pod", "held-a", "held-b", "too-late"])?;
    common::wait_records(cluster, "doomed", 0).await?;
    wait_for("doomed gone", TIMEOUT, &mut [], || async {
        Ok(pool(cluster, "doomed")?.is_none().then_some(()))
    })
    .await
}

async fn shrinking_keeps_held_addresses_as_orphans(cluster: &Cluster) -> Result<()> {
    common::create_pool(cluster, "shrink", "10.43.0.0/16", "10.43.1.1-10.43.1.3").await?;
    let mut held = BTreeMap::new();
    for (name, node) in [("s0", "node-a"), ("s1", "node-b"), ("s2", "node-a")] {
        cluster.apply(&bare_pod(name, "shrink", node))?;
        held.insert(name, running(cluster, name).await?);
    }
    let victim = held["s2"].ip.clone();
    cluster.kubectl(&[
        "patch",
        "berthpool",
        "shrink",
        "--type=merge",
        "-p",
        &json!({ "spec": { "excludeIps": [victim] } }).to_string(),
    ])?;
    let shrunk = wait_for("shrink counts an orphan", TIMEOUT, &mut [], || async {
        let p = pool(cluster, "shrink")?.context("shrink")?;
        Ok((p["status"]["orphaned"] == 1 && p["status"]["total"] == 2).then_some(p))
    })
    .await?;
    let orphaned = condition(&shrunk, "Orphaned").context("no Orphaned condition")?;
    ensure!(
        orphaned["status"] == "True"
            && orphaned["reason"] == "HeldOutsideRanges"
            && orphaned["message"]
                .as_str()
                .is_some_and(|m| m.contains(&victim)),
        "{orphaned}"
    );
    ensure!(
        condition(&shrunk, "Valid").is_some_and(|c| c["status"] == "True"),
        "{shrunk}"
    );
    let event = one_event(cluster, "shrink", "AddressesOutsideRanges", "Warning").await?;
    ensure!(
        event.note.as_deref().is_some_and(|n| n.contains(&victim)),
        "{event:#?}"
    );
    // The holder keeps it.
    let record = cluster.records_of(&victim).await?;
    ensure!(
        record.len() == 1 && record[0]["spec"]["pod"]["name"] == "s2",
        "{record:#?}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    ensure!(
        cluster.records_of(&victim).await?.len() == 1,
        "the orphan was released"
    );

    // Released, it is never handed out again: with s0's address free too,
    // a new pod gets s0's, and the next finds the pool full.
    cluster.kubectl(&["delete", "pod", "s2", "s0"])?;
    common::wait_records(cluster, "shrink", 1).await?;
    cluster.apply(&bare_pod("n1", "shrink", "node-a"))?;
    let n1 = running(cluster, "n1").await?;
    ensure!(n1.ip == held["s0"].ip, "n1 got {} (orphan {victim})", n1.ip);
    cluster.apply(&bare_pod("n2", "shrink", "node-b"))?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    ensure!(
        cluster.records_of(&victim).await?.is_empty(),
        "the released orphan was handed out again"
    );
    wait_for(
        "shrink has no orphan any more",
        TIMEOUT,
        &mut [],
        || async {
            let p = pool(cluster, "shrink")?.context("shrink")?;
            Ok((p["status"]["orphaned"] == 0 && condition(&p, "Orphaned").is_none()).then_some(()))
        },
    )
    .await
}
