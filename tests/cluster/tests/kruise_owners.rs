//! StatefulSet-like owners outside `apps` (issue 10, item 9). OpenKruise's
//! Advanced StatefulSet (`apps.kruise.io/v1beta1`, kind StatefulSet) is
//! installed as a CRD of our own with the fields that matter (no kruise
//! controller: the test creates the pods it would, owned by it). Its
//! pods' retained bindings are retired when their ordinal is scaled away
//! or the owner is deleted, and never before; an owner kind Berth cannot
//! read (forbidden by RBAC, or not served at all) is never retired, and
//! berthd says so once per kind.

mod common;

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use berth_cluster::{is_forbidden, wait_for, Cluster, ClusterConfig};
use common::{records_in, TIMEOUT};
use serde_json::{json, Value};

const POOL: &str = "kruise-pool";
const KRUISE: &str = "apps.kruise.io";
/// A StatefulSet-like kind the chart grants berthd nothing on.
const FORBIDDEN: &str = "apps.example.io";
/// A group the API server does not serve at all.
const ABSENT: &str = "apps.absent.io";
const UNREADABLE_LINE: &str = "cannot read pod owners of this kind";

/// A namespaced `StatefulSet` CRD in `group` (v1beta1) with what Berth
/// reads: `spec.replicas` (also behind the scale subresource, as
/// OpenKruise has it) and `spec.reserveOrdinals`.
fn crd(group: &str) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": { "name": format!("statefulsets.{group}") },
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {
                "plural": "statefulsets", "singular": "statefulset",
                "kind": "StatefulSet", "listKind": "StatefulSetList",
            },
            "versions": [{
                "name": "v1beta1", "served": true, "storage": true,
                "schema": { "openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": true,
                            "properties": {
                                "replicas": { "type": "integer", "format": "int32", "default": 1 },
                                "reserveOrdinals": {
                                    "type": "array",
                                    "items": { "x-kubernetes-int-or-string": true },
                                },
                            },
                        },
                        "status": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": true,
                        },
                    },
                } },
                "subresources": {
                    "status": {},
                    "scale": {
                        "specReplicasPath": ".spec.replicas",
                        "statusReplicasPath": ".status.replicas",
                    },
                },
            }],
        },
    })
}

fn owner_object(group: &str, name: &str, replicas: u32) -> Value {
    json!({
        "apiVersion": format!("{group}/v1beta1"),
        "kind": "StatefulSet",
        "metadata": { "name": name, "namespace": "default" },
        "spec": { "replicas": replicas },
    })
}

/// Pod `<owner>-<ordinal>` as the owner's controller would create it.
fn owned_pod(group: &str, owner: &str, uid: &str, ordinal: u32) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": format!("{owner}-{ordinal}"),
            "namespace": "default",
            "labels": { "app": owner },
            "annotations": { "berth.io/ippool": POOL },
            "ownerReferences": [{
                "apiVersion": format!("{group}/v1beta1"),
                "kind": "StatefulSet",
                "name": owner,
                "uid": uid,
                "controller": true,
            }],
        },
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{ "name": "c", "image": "example.invalid/app:1" }],
        },
    })
}

/// The record (BerthAddress spec) of pod `name`, if any.
async fn record_of(cluster: &Cluster, name: &str) -> Result<Option<Value>> {
    let records = records_in(cluster, POOL).await?;
    Ok(records.into_iter().find(|r| r["pod"]["name"] == name))
}

/// Waits until pod `name`'s record is Retained with no expiry (kept until
/// its identity is retired).
async fn wait_retained(cluster: &Cluster, name: &str) -> Result<Value> {
    wait_for(&format!("{name} retained"), TIMEOUT, &mut [], || async {
        Ok(record_of(cluster, name)
            .await?
            .filter(|r| r["state"] == "Retained" && r["expiresAtUnixSecs"].is_null()))
    })
    .await
}

/// Lines of every node's berthd log saying `group`'s kind is unreadable,
/// per node.
fn unreadable_lines(cluster: &Cluster, group: &str) -> Result<Vec<usize>> {
    cluster
        .nodes()
        .iter()
        .map(|n| {
            Ok(n.berthd_log()?
                .lines()
                .filter(|l| l.contains(UNREADABLE_LINE) && l.contains(group))
                .count())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kruise_statefulset_bindings_retire_when_scaled_away_and_never_before() -> Result<()> {
    let cluster = Cluster::start(ClusterConfig::nodes(2)).await?;
    common::create_pool(
        &cluster,
        POOL,
        "10.14.0.0/16",
        "10.14.168.101-10.14.168.140",
    )
    .await?;
    for group in [KRUISE, FORBIDDEN] {
        cluster.apply(&crd(group))?;
        cluster.kubectl(&[
            "wait",
            "--for=condition=Established",
            &format!("crd/statefulsets.{group}"),
            "--timeout=60s",
        ])?;
    }
    cluster.apply(&owner_object(KRUISE, "kweb", 3))?;
    cluster.apply(&owner_object(FORBIDDEN, "xweb", 1))?;
    let uid = |group: &str, name: &str| {
        cluster.kubectl(&[
            "get",
            &format!("statefulsets.{group}"),
            name,
            "-o",
            "jsonpath={.metadata.uid}",
        ])
    };
    let kweb_uid = uid(KRUISE, "kweb")?;
    let xweb_uid = uid(FORBIDDEN, "xweb")?;
    for ordinal in 0..3 {
        cluster.apply(&owned_pod(KRUISE, "kweb", &kweb_uid, ordinal))?;
    }
    cluster.apply(&owned_pod(FORBIDDEN, "xweb", &xweb_uid, 0))?;
    cluster.apply(&owned_pod(
        ABSENT,
        "yweb",
        "00000000-0000-0000-0000-00000000abcd",
        0,
    ))?;
    let mut ips = std::collections::BTreeMap::new();
    for (app, n) in [("kweb", 3), ("xweb", 1), ("yweb", 1)] {
        let pods = cluster
            .wait_pods_ready("default", &format!("app={app}"), n, TIMEOUT)
            .await?;
        for pod in cluster.verify_pods(&pods).await? {
            ips.insert(pod.name, pod.ip);
        }
    }

    // The sticky policy stated identities for every StatefulSet-kind
    // owner; the owner's group is kept for GC, and its replicas were read
    // through the dynamic API where berthd may.
    for ordinal in 0..3 {
        let r = record_of(&cluster, &format!("kweb-{ordinal}"))
            .await?
            .context("kweb record")?;
        ensure!(
            r["identity"]["key"] == format!("default/kweb/{ordinal}"),
            "{r}"
        );
        ensure!(r["owner"]["apiVersion"] == "apps.kruise.io/v1beta1", "{r}");
        ensure!(r["statefulSet"]["replicas"] == 3, "{r}");
    }
    let x = record_of(&cluster, "xweb-0")
        .await?
        .context("xweb record")?;
    ensure!(
        x["identity"]["key"] == "default/xweb/0" && x["statefulSet"]["replicas"].is_null(),
        "{x}"
    );

    // Pods go (their DELs retain the bindings); every owner still wants
    // its ordinals, or cannot be read: nothing is retired, however long
    // GC looks (every second, 3 s grace).
    for name in ["kweb-1", "kweb-2", "xweb-0", "yweb-0"] {
        cluster.kubectl(&["delete", "pod", name])?;
        wait_retained(&cluster, name).await?;
    }
    tokio::time::sleep(Duration::from_secs(12)).await;
    for name in ["kweb-1", "kweb-2", "xweb-0", "yweb-0"] {
        let r = record_of(&cluster, name).await?;
        ensure!(
            r.as_ref()
                .is_some_and(|r| r["state"] == "Retained" && r["expiresAtUnixSecs"].is_null()),
            "{name}'s binding was retired while its owner keeps the ordinal: {r:?}"
        );
    }

    // Scaled to 2 through the scale subresource: ordinal 2 is retired and
    // (holdAfterScaleDown 0s) freed; ordinal 1 stays and comes back.
    cluster.kubectl(&[
        "scale",
        &format!("statefulsets.{KRUISE}"),
        "kweb",
        "--replicas=2",
    ])?;
    wait_for("kweb-2 retired and freed", TIMEOUT, &mut [], || async {
        Ok(record_of(&cluster, "kweb-2").await?.is_none().then_some(()))
    })
    .await?;
    wait_retained(&cluster, "kweb-1").await?;
    cluster.apply(&owned_pod(KRUISE, "kweb", &kweb_uid, 1))?;
    let pods = cluster
        .wait_pods_ready("default", "app=kweb", 2, TIMEOUT)
        .await?;
    let back = cluster.verify_pods(&pods).await?;
    let kweb1 = back.iter().find(|p| p.name == "kweb-1").context("kweb-1")?;
    ensure!(
        ips["kweb-1"] == kweb1.ip,
        "kweb-1 came back with {} not {}",
        kweb1.ip,
        ips["kweb-1"]
    );

    // The owner deleted: Kubernetes' garbage collector deletes its pods,
    // and their bindings are retired and freed.
    cluster.kubectl(&["delete", &format!("statefulsets.{KRUISE}"), "kweb"])?;
    wait_for("kweb's addresses freed", TIMEOUT, &mut [], || async {
        let left = records_in(&cluster, POOL)
            .await?
            .iter()
            .filter(|r| {
                r["pod"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("kweb-"))
            })
            .count();
        Ok((left == 0).then_some(()))
    })
    .await?;

    // The forbidden kind's owner deleted too: berthd cannot see that, so
    // its binding stays until an operator releases it.
    cluster.kubectl(&["delete", &format!("statefulsets.{FORBIDDEN}"), "xweb"])?;
    tokio::time::sleep(Duration::from_secs(8)).await;
    for name in ["xweb-0", "yweb-0"] {
        ensure!(
            record_of(&cluster, name).await?.is_some(),
            "{name}'s binding was retired though its owner cannot be read"
        );
    }
    for group in [FORBIDDEN, ABSENT] {
        let lines = unreadable_lines(&cluster, group)?;
        ensure!(
            lines.iter().sum::<usize>() >= 1 && lines.iter().all(|n| *n <= 1),
            "{group}: expected one '{UNREADABLE_LINE}' line per node that met it, got {lines:?}"
        );
    }
    ensure!(unreadable_lines(&cluster, KRUISE)?.iter().all(|n| *n == 0));
    // The only refusals are the kind the chart grants nothing on.
    for node in cluster.nodes() {
        let log = node.berthd_log()?;
        let other: Vec<&str> = log
            .lines()
            .filter(|l| is_forbidden(l) && !l.contains(FORBIDDEN))
            .collect();
        ensure!(other.is_empty(), "{}: {other:?}", node.name);
    }
    Ok(())
}
