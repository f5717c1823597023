//! Scenario 7: the chart installed by helm v4. The real API server refuses
//! what the BerthPool CRD schema refuses, and the chart's RBAC is enough
//! for everything berthd does (ADD, DEL, GC, StatefulSets, namespace
//! pools, pool status): no berthd log shows a 403. The check itself is
//! shown to work: without the chart's ClusterRoleBinding it fails.

mod common;

use std::collections::BTreeMap;

use anyhow::{bail, ensure, Context, Result};
use berth_cluster::{wait_for, Cluster, ClusterConfig, Helm};
use common::{deployment, stateful_set, TIMEOUT};
use serde_json::{json, Value};

const POOL: &str = "rbac-pool";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_enforces_the_schema_and_the_chart_rbac_suffices() -> Result<()> {
    let cluster = Cluster::start(ClusterConfig::nodes(2).with_helm(Helm::V4)).await?;

    // Malformed pools: refused by the server, nothing stored.
    let malformed = [
        (
            "no-subnet",
            json!({ "ips": ["10.13.0.10-10.13.0.20"] }),
            "spec.subnet: Required value",
        ),
        (
            "subnet-number",
            json!({ "subnet": 42 }),
            "spec.subnet: Invalid value: \"integer\"",
        ),
        (
            "ips-string",
            json!({ "subnet": "10.13.0.0/16", "ips": "10.13.0.10" }),
            "spec.ips: Invalid value: \"string\"",
        ),
        (
            "route-no-dst",
            json!({ "subnet": "10.13.0.0/16", "routes": [{ "gw": "10.13.0.1" }] }),
            "spec.routes[0].dst: Required value",
        ),
        (
            "selector-list",
            json!({ "subnet": "10.13.0.0/16", "nodeSelector": { "zone": ["a"] } }),
            "spec.nodeSelector.zone: Invalid value: \"array\"",
        ),
        (
            "default-string",
            json!({ "subnet": "10.13.0.0/16", "default": "yes" }),
            "spec.default: Invalid value: \"string\"",
        ),
        // The CRD's CEL rules (pool_validation.rs has one case per rule).
        (
            "bad-cidr",
            json!({ "subnet": "10.13.0.0/33" }),
            "spec.subnet: Invalid value: \"10.13.0.0/33\": subnet must be a CIDR",
        ),
    ];
    for (name, spec, expected) in malformed {
        let pool = json!({
            "apiVersion": "berth.io/v1alpha1",
            "kind": "BerthPool",
            "metadata": { "name": name },
            "spec": spec,
        });
        match cluster.apply(&pool) {
            Ok(out) => bail!("the server accepted malformed pool {name}: {out}"),
            Err(e) => ensure!(
                format!("{e:#}").contains(expected),
                "{name}: expected {expected:?} in {e:#}"
            ),
        }
        let get = cluster.kubectl(&["get", "berthpool", name]);
        ensure!(get.is_err(), "{name} was stored: {get:?}");
    }
    // Well-formed but unusable: its only address is the network address.
    // The server stores it (the schema judges fields, not arithmetic),
    // berthd reports it unusable in the VALID column.
    cluster.apply(&common::pool("no-hosts", "10.13.0.0/30", "10.13.0.0"))?;
    wait_for("no-hosts marked invalid", TIMEOUT, &mut [], || async {
        let row = cluster.pool_row("no-hosts")?;
        Ok((row.get("VALID").map(String::as_str) == Some("False")).then_some(row))
    })
    .await?;

    // Every kind of work berthd does, under the chart's RBAC only.
    common::create_pool(
        &cluster,
        POOL,
        "10.14.0.0/16",
        "10.14.168.101-10.14.168.140",
    )
    .await?;
    cluster.apply(&deployment("rbac-web", POOL, 2, &BTreeMap::new()))?;
    cluster.apply(&stateful_set("rbac-sts", POOL, 2, &BTreeMap::new()))?;
    cluster.kubectl(&["create", "namespace", "pooled"])?;
    cluster.kubectl(&[
        "annotate",
        "namespace",
        "pooled",
        &format!("berth.io/default-ippool={POOL}"),
    ])?;
    wait_for(
        "the pooled namespace's default account",
        TIMEOUT,
        &mut [],
        || async {
            Ok(cluster
                .kubectl(&["get", "serviceaccount", "default", "-n", "pooled"])
                .is_ok()
                .then_some(()))
        },
    )
    .await?;
    cluster.apply(&bare_pod("pooled", "lone"))?;
    // Two interfaces, each from its own pool: eth0 on the bridge, net1 on
    // the node's macvlan network.
    common::create_pool(
        &cluster,
        "net1-pool",
        "10.15.0.0/16",
        "10.15.168.101-10.15.168.110",
    )
    .await?;
    let mut dual = bare_pod("default", "dual");
    dual["metadata"]["annotations"] = json!({
        "k8s.v1.cni.cncf.io/networks": "berth-macvlan",
        "berth.io/ippools": json!([
            { "interface": "eth0", "pools": [POOL] },
            { "interface": "net1", "pools": ["net1-pool"] },
        ]).to_string(),
    });
    cluster.apply(&dual)?;
    let web = cluster
        .wait_pods_ready("default", "app=rbac-web", 2, TIMEOUT)
        .await?;
    let sts = cluster
        .wait_pods_ready("default", "app=rbac-sts", 2, TIMEOUT)
        .await?;
    let lone = cluster
        .wait_pods_ready("pooled", "app=lone", 1, TIMEOUT)
        .await?;
    cluster.verify_pods(&web).await?;
    let sts = cluster.verify_pods(&sts).await?;
    let lone = cluster.verify_pods(&lone).await?;
    ensure!(
        lone[0].ip.starts_with("10.14.168."),
        "the namespace pool was not used: {lone:?}"
    );
    let dual = cluster
        .wait_pods_ready("default", "app=dual", 1, TIMEOUT)
        .await?;
    let dual = &cluster.verify_pods(&dual).await?[0];
    ensure!(dual.ip.starts_with("10.14.168."), "{dual:?}");
    let sandbox = cluster
        .node(&dual.node)
        .kubelet()
        .sandbox("default", "dual")
        .context("dual's sandbox")?;
    let net1 = sandbox
        .in_netns
        .iter()
        .find(|(i, _)| i == "net1")
        .map(|(_, a)| a.clone())
        .unwrap_or_default();
    ensure!(
        net1.len() == 1 && net1[0].starts_with("10.15.168."),
        "net1 has {net1:?}"
    );
    let record = cluster.records_of(&net1[0]).await?;
    ensure!(
        record.len() == 1
            && record[0]["spec"]["interface"] == "net1"
            && record[0]["spec"]["attachment"]["containerId"] == sandbox.container_id.as_str(),
        "net1's record: {record:?}"
    );
    cluster.kubectl(&["delete", "pods", "-l", "app in (rbac-web,rbac-sts)"])?;
    let sts_again = cluster
        .wait_pods_ready("default", "app=rbac-sts", 2, TIMEOUT)
        .await?;
    let sts_again = cluster.verify_pods(&sts_again).await?;
    for (a, b) in sts.iter().zip(&sts_again) {
        ensure!(
            a.name == b.name && a.ip == b.ip,
            "sticky address lost: {a:?} -> {b:?}"
        );
    }
    for node in cluster.nodes() {
        node.kubelet().cni_gc().await?;
    }
    cluster.wait_pool_counts(POOL, 6, 40).await?;
    cluster.wait_pool_counts("net1-pool", 1, 10).await?;
    cluster.verify_single_owners().await?;
    cluster.assert_no_forbidden()?;

    // The check can fail: take the chart's grant away and berthd's next
    // pool sync (every second) is refused, which the check must report.
    cluster.kubectl(&["delete", "clusterrolebinding", "berth"])?;
    let refused = wait_for("a 403 in a berthd log", TIMEOUT, &mut [], || async {
        Ok(cluster.assert_no_forbidden().err())
    })
    .await?;
    ensure!(
        format!("{refused:#}").contains("system:serviceaccount:kube-system:berth"),
        "the 403 is not berthd's own: {refused:#}"
    );
    Ok(())
}

/// A pod with no pool annotation in `namespace`.
fn bare_pod(namespace: &str, name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": name, "namespace": namespace, "labels": { "app": name } },
        "spec": { "containers": [{ "name": name, "image": "example.invalid/app:1" }] },
    })
}
