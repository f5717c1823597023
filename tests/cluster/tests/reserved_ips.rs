//! Issue 10, item 5: `BerthReservedIP` on the real API server and three
//! nodes. The API server refuses a malformed or reversed entry (CEL) and
//! stores nothing; no node hands out a reserved address; one reserved
//! while held stays with its holder (a re-created StatefulSet pod keeps
//! it) and, once released, is not handed out again; `kubectl get
//! berthpools` and `berthd pools` count the reserved addresses; deleting
//! the object frees them.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use berth_cluster::{wait_for, Cluster, ClusterConfig};
use common::{deployment, ready_pods, stateful_set, TIMEOUT};
use serde_json::{json, Value};

const POOL: &str = "rsv-pool";
const RESERVED: &str = "routers";

fn reserved_ip(name: &str, ips: &[String]) -> Value {
    json!({
        "apiVersion": "berth.io/v1alpha1",
        "kind": "BerthReservedIP",
        "metadata": { "name": name },
        "spec": { "ips": ips },
    })
}

/// Waits until every node's berthd counts `want` reserved in the pool.
async fn wait_nodes_reserved(cluster: &Cluster, want: u64) -> Result<()> {
    for node in cluster.nodes() {
        wait_for(
            &format!("{want} reserved on {}", node.name),
            TIMEOUT,
            &mut [],
            || async {
                let out = node.berthd_cli(&["pools", "--json"]).await?;
                let answer: Value = serde_json::from_str(&out).context("pools --json")?;
                let pools = answer["pools"].as_array().context("pools")?;
                let pool = pools.iter().find(|p| p["name"] == POOL);
                Ok(pool.is_some_and(|p| p["reserved"] == want).then_some(()))
            },
        )
        .await?;
    }
    Ok(())
}

/// The addresses every record in the pool holds.
async fn held(cluster: &Cluster) -> Result<BTreeSet<String>> {
    Ok(common::records_in(cluster, POOL)
        .await?
        .iter()
        .filter_map(|r| r["address"].as_str().map(String::from))
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_node_hands_out_a_reserved_address() -> Result<()> {
    let cluster = Cluster::start(ClusterConfig::nodes(3)).await?;

    // Bad input: refused by the API server, naming the entry; nothing stored.
    for (name, bad, words) in [
        (
            "reversed",
            "10.15.168.110-10.15.168.101",
            "starts after its end",
        ),
        (
            "malformed",
            "10.15.168.1-10.15",
            "must be an IP address, a CIDR or a range",
        ),
        ("host-bits", "10.15.168.5/24", "canonical form"),
    ] {
        let object = reserved_ip(name, &["10.15.168.120".into(), bad.into()]);
        match cluster.apply(&object) {
            Ok(out) => bail!("{name} accepted: {out}"),
            Err(e) => {
                let message = format!("{e:#}");
                ensure!(
                    message.contains("spec.ips[1]") && message.contains(words),
                    "{name}: {message}"
                );
            }
        }
    }
    let stored = cluster.kubectl(&["get", "berthreservedips", "-o", "name"])?;
    ensure!(stored.trim().is_empty(), "stored: {stored}");

    common::create_pool(
        &cluster,
        POOL,
        "10.15.0.0/16",
        "10.15.168.101-10.15.168.112",
    )
    .await?;
    let anywhere = BTreeMap::new();
    cluster.apply(&stateful_set("db", POOL, 1, &anywhere))?;
    cluster.apply(&deployment("web", POOL, 1, &anywhere))?;
    let db = cluster
        .wait_pods_ready("default", "app=db", 1, TIMEOUT)
        .await?;
    let db = cluster.verify_pods(&db).await?.remove(0);
    let web = cluster
        .wait_pods_ready("default", "app=web", 1, TIMEOUT)
        .await?;
    let web = cluster.verify_pods(&web).await?.remove(0);

    // Reserve both held addresses, seven free ones (as one range where
    // they run on) and a v6 CIDR: three of the pool's twelve stay free.
    let others: Vec<String> = (101..=112)
        .map(|i| format!("10.15.168.{i}"))
        .filter(|a| *a != db.ip && *a != web.ip)
        .collect();
    let mut ips = vec![db.ip.clone(), web.ip.clone(), "fd00:15::/120".to_owned()];
    ips.extend(others[..7].iter().cloned());
    let reserved: BTreeSet<String> = ips.iter().filter(|a| !a.contains(':')).cloned().collect();
    cluster.apply(&reserved_ip(RESERVED, &ips))?;
    wait_nodes_reserved(&cluster, 9).await?;
    wait_for("RESERVED 9 in kubectl get", TIMEOUT, &mut [], || async {
        let row = cluster.pool_row(POOL)?;
        Ok((row.get("RESERVED").map(String::as_str) == Some("9")).then_some(row))
    })
    .await?;

    // Held while reserved: db's re-created pod keeps its address.
    cluster.kubectl(&["delete", "pod", &db.name, "--wait=false"])?;
    let again = wait_for("db re-created", TIMEOUT, &mut [], || async {
        let pods = ready_pods(&cluster, "db").await?;
        Ok(
            (pods.len() == 1 && pods[0].metadata.uid.as_deref() != Some(db.uid.as_str()))
                .then_some(pods),
        )
    })
    .await?;
    let again = cluster.verify_pods(&again).await?.remove(0);
    ensure!(again.ip == db.ip, "db moved from {} to {}", db.ip, again.ip);

    // web's address, released, is reserved from now on.
    cluster.kubectl(&["scale", "deployment", "web", "--replicas", "0"])?;
    common::wait_no_pods(&cluster, "web").await?;
    wait_for("web's address released", TIMEOUT, &mut [], || async {
        Ok((!held(&cluster).await?.contains(&web.ip)).then_some(()))
    })
    .await?;

    // Five new pods over three nodes: only the three unreserved addresses
    // are handed out, whichever node asks.
    let failed_before = cluster.adds_failed();
    cluster.apply(&deployment("many", POOL, 5, &anywhere))?;
    wait_for("three of many ready", TIMEOUT, &mut [], || async {
        Ok((ready_pods(&cluster, "many").await?.len() >= 3).then_some(()))
    })
    .await?;
    // Give every kubelet a few retries of the two that cannot start.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let many = cluster
        .verify_pods(&ready_pods(&cluster, "many").await?)
        .await?;
    ensure!(many.len() == 3, "{} pods started", many.len());
    let nodes: BTreeSet<&str> = many.iter().map(|p| p.node.as_str()).collect();
    let failed_after = cluster.adds_failed();
    ensure!(failed_after > failed_before, "no ADD was refused");
    let holding = held(&cluster).await?;
    for address in &reserved {
        let holders = common::records_in(&cluster, POOL)
            .await?
            .into_iter()
            .filter(|r| r["address"] == address.as_str())
            .collect::<Vec<_>>();
        let ok = if *address == db.ip {
            holders.len() == 1 && holders[0]["pod"]["name"] == db.name.as_str()
        } else {
            holders.is_empty()
        };
        ensure!(
            ok,
            "reserved {address} held by {holders:?} (nodes {nodes:?})"
        );
    }
    ensure!(holding.len() == 4, "{holding:?}");

    // The reservation deleted: the waiting pods are served.
    cluster.kubectl(&["delete", "berthreservedip", RESERVED])?;
    wait_nodes_reserved(&cluster, 0).await?;
    let many = cluster
        .wait_pods_ready("default", "app=many", 5, TIMEOUT)
        .await?;
    cluster.verify_pods(&many).await?;
    ensure!(cluster.verify_single_owners().await? == 6);
    cluster.assert_no_forbidden()?;
    Ok(())
}
