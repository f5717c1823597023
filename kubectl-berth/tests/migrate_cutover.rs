//! The cut-over from Spiderpool, end to end on the test cluster (real
//! control plane, Berth's chart installed by helm, berthd from the image
//! on two nodes, the test kubelet running the bridge plugin with Berth as
//! IPAM): Spiderpool's CRDs and objects for a pool with two StatefulSet
//! pods and a Deployment pod, `migrate spiderpool`, then the pods started
//! and restarted by the kubelet through Berth: the StatefulSet pods keep
//! Spiderpool's addresses (through a re-creation and a sandbox restart
//! too), and no address is handed out twice.

mod common;

use anyhow::{ensure, Context, Result};
use berth_cluster::{wait_for, Cluster, ClusterConfig, PodAddress};
use common::spider::{self, Allocation};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, PostParams};
use kube::ResourceExt;
use serde_json::json;
use std::process::Output;
use std::time::Duration;

const POOL: &str = "sp-pool";
const PODS_TIMEOUT: Duration = Duration::from_secs(120);
/// Nodes get this label at the cut-over; until then no pod is placed.
const CUTOVER: &str = "berth.io/cutover";

fn berth(cluster: &Cluster, args: &[&str]) -> Output {
    common::berth_with(cluster.control_plane().admin_kubeconfig(), args)
}

fn berth_ok(cluster: &Cluster, args: &[&str]) -> Result<String> {
    common::berth_ok_with(cluster.control_plane().admin_kubeconfig(), args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulset_pods_keep_spiderpool_addresses_after_the_cutover() -> Result<()> {
    let cluster = Cluster::start(ClusterConfig::nodes(2)).await?;
    let client = cluster.client().await?;
    let api: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    for crd in kubectl_berth::migrate::spider_crds::crds()? {
        api.create(&PostParams::default(), &crd).await?;
    }
    wait_for(
        "Spiderpool's CRDs served",
        PODS_TIMEOUT,
        &mut [],
        || async {
            Ok(cluster
                .kubectl(&[
                    "get",
                    "spiderippools,spiderendpoints,spiderreservedips",
                    "-A",
                ])
                .is_ok()
                .then_some(()))
        },
    )
    .await?;

    // The workloads as they ran under Spiderpool: pods with UIDs, placed
    // nowhere yet (no node has the cut-over label).
    for object in [
        workload("StatefulSet", "db", 2),
        workload("Deployment", "web", 1),
    ] {
        cluster.apply(&object)?;
    }
    let pods = wait_for(
        "db-0, db-1 and a web pod",
        PODS_TIMEOUT,
        &mut [],
        || async {
            let list = Api::<Pod>::namespaced(client.clone(), "default")
                .list(&ListParams::default())
                .await?;
            Ok((list.items.len() == 3).then_some(list.items))
        },
    )
    .await?;
    let pod = |prefix: &str| {
        pods.iter()
            .find(|p| p.name_any().starts_with(prefix))
            .context(prefix.to_owned())
    };
    // Spiderpool's choices: not the lowest addresses, so Berth keeping
    // them is not its own first pick by chance.
    let allocations = [
        (pod("db-0")?, "10.27.168.105", "node-a", "StatefulSet", "db"),
        (pod("db-1")?, "10.27.168.103", "node-b", "StatefulSet", "db"),
        (pod("web-")?, "10.27.168.108", "node-a", "Deployment", "web"),
    ]
    .map(|(p, ip, node, kind, owner)| Allocation {
        namespace: "default".into(),
        pod: p.name_any(),
        uid: p.metadata.uid.clone().unwrap_or_default(),
        ip: ip.into(),
        node: node.into(),
        owner_kind: kind.into(),
        owner_name: owner.into(),
    });
    spider::create_pool(
        &client,
        POOL,
        json!({ "ipVersion": 4, "subnet": "10.27.0.0/16", "ips": ["10.27.168.101-10.27.168.110"] }),
    )
    .await?;
    spider::allocate(&client, POOL, 16, 10, &allocations).await?;
    // Spiderpool reserves every address but .110 that no pod holds: the
    // Deployment pod, which gets a new address at the cut-over, can only
    // get .110 if the reservations came over.
    spider::reserve(
        &client,
        "sp-infra",
        &[
            "10.27.168.101-10.27.168.102",
            "10.27.168.104",
            "10.27.168.106-10.27.168.107",
            "10.27.168.109",
        ],
    )
    .await?;

    // Migrate: the dry run changes nothing, the run writes, a second run
    // changes nothing.
    let plan = berth_ok(&cluster, &["migrate", "spiderpool", "--dry-run"])?;
    ensure!(plan.contains("5 object(s) would be created"), "{plan}");
    ensure!(
        cluster.berth_addresses().await?.is_empty()
            && cluster.kubectl(&["get", "berthpool", POOL]).is_err()
    );
    let done = berth_ok(&cluster, &["migrate", "spiderpool"])?;
    ensure!(
        done.contains("Created 1 BerthReservedIP(s), 1 BerthPool(s) and 3 BerthAddress(es)."),
        "{done}"
    );
    let again = berth_ok(&cluster, &["migrate", "spiderpool"])?;
    ensure!(again.contains("Nothing to do"), "{again}");
    cluster.wait_pool_known(POOL, PODS_TIMEOUT).await?;

    // The cut-over: the same pods (same UIDs) start, with Berth as IPAM.
    cluster.kubectl(&[
        "label",
        "node",
        "node-a",
        "node-b",
        &format!("{CUTOVER}=done"),
    ])?;
    let db = ready(&cluster, "app=db", 2).await?;
    for (pod, want) in db.iter().zip(["10.27.168.105", "10.27.168.103"]) {
        ensure!(
            pod.ip == want,
            "{} got {} instead of Spiderpool's {want}",
            pod.name,
            pod.ip
        );
    }
    ensure!(
        db[0].uid == allocations[0].uid && db[1].uid == allocations[1].uid,
        "the pods were re-created: {db:?}"
    );
    let web = ready(&cluster, "app=web", 1).await?;
    ensure!(
        web[0].ip == "10.27.168.110",
        "the web pod got {} instead of the one address neither held nor reserved: {web:?}",
        web[0].ip
    );
    eprintln!("cut-over: {db:?} {web:?}");

    // Restarts through Berth alone: re-created StatefulSet pods and a
    // sandbox restart keep the addresses.
    cluster.kubectl(&["delete", "pods", "-l", "app=db"])?;
    let again = wait_for("db re-created", PODS_TIMEOUT, &mut [], || async {
        let now = ready(&cluster, "app=db", 2).await?;
        Ok(now
            .iter()
            .zip(&db)
            .all(|(n, o)| n.uid != o.uid)
            .then_some(now))
    })
    .await?;
    for (old, new) in db.iter().zip(&again) {
        ensure!(
            old.ip == new.ip,
            "{} moved from {} to {}",
            old.name,
            old.ip,
            new.ip
        );
    }
    let sandbox = cluster
        .node(&again[0].node)
        .kubelet()
        .restart_pod("default", &again[0].name)
        .await?;
    ensure!(sandbox.ip() == Some("10.27.168.105"), "{sandbox:?}");

    // The Deployment pod goes: its migrated address is freed by the
    // cluster GC, as a DEL through Berth would have.
    cluster.kubectl(&["delete", "pods", "-l", "app=web"])?;
    wait_for("10.27.168.108 freed", PODS_TIMEOUT, &mut [], || async {
        Ok(cluster
            .records_of("10.27.168.108")
            .await?
            .is_empty()
            .then_some(()))
    })
    .await?;
    ready(&cluster, "app=web", 1).await?;
    cluster.verify_single_owners().await?;
    cluster.assert_no_forbidden()?;
    // And the consistency check agrees (once every node counted).
    wait_for(
        "kubectl berth check clean",
        PODS_TIMEOUT,
        &mut [],
        || async {
            let out = berth(&cluster, &["check"]);
            Ok(out.status.success().then_some(()))
        },
    )
    .await?;
    Ok(())
}

async fn ready(cluster: &Cluster, selector: &str, n: usize) -> Result<Vec<PodAddress>> {
    let pods = cluster
        .wait_pods_ready("default", selector, n, PODS_TIMEOUT)
        .await?;
    cluster.verify_pods(&pods).await
}

/// A workload using Spiderpool's pool annotation (berthd reads it as is),
/// placed only on nodes labelled for the cut-over.
fn workload(kind: &str, name: &str, replicas: u32) -> serde_json::Value {
    let mut spec = json!({
        "replicas": replicas,
        "selector": { "matchLabels": { "app": name } },
        "template": {
            "metadata": { "labels": { "app": name }, "annotations": { "ipam.spidernet.io/ippool": format!("{{\"ipv4\":[\"{POOL}\"]}}") } },
            "spec": {
                "nodeSelector": { CUTOVER: "done" },
                "terminationGracePeriodSeconds": 1,
                "containers": [{ "name": name, "image": "example.invalid/app:1" }],
            },
        },
    });
    if kind == "StatefulSet" {
        spec["serviceName"] = json!(name);
        spec["podManagementPolicy"] = json!("Parallel");
    }
    json!({ "apiVersion": "apps/v1", "kind": kind, "metadata": { "name": name, "namespace": "default" }, "spec": spec })
}
