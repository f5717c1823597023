//! `migrate spiderpool` against the real API server with Spiderpool's
//! CRDs (ours, written from its v2beta1 reference) and its objects as its
//! controller leaves them for a StatefulSet and a Deployment: the plan,
//! `--dry-run` changing nothing, the objects written (identities,
//! retention, owners, the pool's fields, reservations), a second run changing nothing,
//! what has no equivalent reported, and an address someone else holds in
//! Berth stopping the migration with nothing written.

mod common;

use anyhow::{ensure, Context, Result};
use berth_cluster::wait_for;
use berth_kube::crd_address::{AddressState, RetentionKind};
use berth_kube::{BerthAddress, BerthPool, BerthReservedIP};
use common::spider::{self, Allocation};
use common::{attached, Env, TIMEOUT};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::ResourceExt;
use serde_json::json;
use std::collections::BTreeMap;

const POOL: &str = "sp-pool";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_writes_berths_equivalents_once() -> Result<()> {
    let env = Env::start().await?;
    let client = env.client.clone();

    // Before Berth's chart and Spiderpool are there: clear refusals.
    let out = env.berth(&["migrate", "spiderpool"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(
        out.status.code() == Some(2) && stderr.contains("install Berth's chart first"),
        "{stderr}"
    );
    spider::berth_config(&client, "0s").await?;
    let out = env.berth(&["migrate", "spiderpool"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(
        out.status.code() == Some(2) && stderr.contains("is Spiderpool installed"),
        "{stderr}"
    );
    env.install_crds(kubectl_berth::migrate::spider_crds::crds()?)
        .await?;

    // The workloads: pods exist (Pending, there are no nodes).
    for object in [
        workload("StatefulSet", "db", 2),
        workload("Deployment", "web", 1),
    ] {
        env.apply(&object)?;
    }
    let pods = wait_for("db-0, db-1 and a web pod", TIMEOUT, &mut [], || async {
        let list = Api::<Pod>::namespaced(client.clone(), "default")
            .list(&ListParams::default())
            .await?;
        Ok((list.items.len() == 3).then_some(list.items))
    })
    .await?;
    let uid = |name: &str| -> Result<String> {
        pods.iter()
            .find(|p| p.name_any().starts_with(name))
            .and_then(|p| p.metadata.uid.clone())
            .with_context(|| format!("pod {name}"))
    };
    let web_pod = pods
        .iter()
        .map(ResourceExt::name_any)
        .find(|n| n.starts_with("web-"))
        .context("web pod")?;

    spider::create_pool(
        &client,
        POOL,
        json!({
            "ipVersion": 4,
            "subnet": "10.25.0.0/16",
            "ips": ["10.25.0.10-10.25.0.29"],
            "excludeIPs": ["10.25.0.15"],
            "gateway": "10.25.0.1",
            "routes": [{ "dst": "10.99.0.0/16", "gw": "10.25.0.1" }],
            "nodeAffinity": { "matchLabels": { "zone": "a" } },
            "podAffinity": { "matchLabels": { "app": "db" } },
            "default": false,
        }),
    )
    .await?;
    let alloc = |pod: &str, uid: String, ip: &str, kind: &str, owner: &str| Allocation {
        namespace: "default".into(),
        pod: pod.into(),
        uid,
        ip: ip.into(),
        node: "node-a".into(),
        owner_kind: kind.into(),
        owner_name: owner.into(),
    };
    let allocations = vec![
        alloc("db-0", uid("db-0")?, "10.25.0.21", "StatefulSet", "db"),
        alloc("db-1", uid("db-1")?, "10.25.0.17", "StatefulSet", "db"),
        alloc(&web_pod, uid("web-")?, "10.25.0.23", "Deployment", "web"),
        // Spiderpool keeps a StatefulSet pod's address while it is away.
        alloc(
            "db-2",
            "uid-of-a-deleted-db-2".into(),
            "10.25.0.22",
            "StatefulSet",
            "db",
        ),
        // A Deployment pod that is gone: Spiderpool is about to free it.
        alloc(
            "web-old-x7",
            "uid-gone".into(),
            "10.25.0.26",
            "Deployment",
            "web",
        ),
    ];
    spider::allocate(&client, POOL, 16, 19, &allocations).await?;
    spider::reserve(&client, "sr-ext", &["10.25.0.28"]).await?;
    // A BerthReservedIP of that name with other addresses is kept as it
    // is, and the plan says what that leaves unreserved.
    spider::reserve(&client, "sr-infra", &["10.25.0.11-10.25.0.12"]).await?;
    let kept: BerthReservedIP = serde_json::from_value(json!({
        "apiVersion": "berth.io/v1alpha1",
        "kind": "BerthReservedIP",
        "metadata": { "name": "sr-infra" },
        "spec": { "ips": ["10.25.0.11"] },
    }))?;
    Api::<BerthReservedIP>::all(client.clone())
        .create(&PostParams::default(), &kept)
        .await?;
    spider::create_pool(
        &client,
        "sp-off",
        json!({ "subnet": "10.26.0.0/16", "ips": ["10.26.0.10"], "disable": true }),
    )
    .await?;

    // --dry-run: the plan, nothing written.
    let plan = env.berth_ok(&["migrate", "spiderpool", "--dry-run"])?;
    eprintln!("{plan}");
    for line in [
        "create   BerthPool         sp-pool",
        "sp-pool.10-25-0-21",
        "default/db-0 eth0 attached, identity default/db/0 (keep until retired) on node-a",
        "default/db-2 eth0 retained, identity default/db/2",
        &format!("default/{web_pod} eth0 attached on node-a"),
        "spiderippool/sp-pool: podAffinity has no equivalent",
        "create   BerthPool         sp-off",
        "create   BerthReservedIP   sr-ext",
        "spiderreservedip/sr-infra: berthreservedip/sr-infra exists with other ips: \
         10.25.0.11-10.25.0.12 are reserved in Berth only where it",
        "10.25.0.26: the pod is gone and keeps no identity",
        "Dry run: nothing was changed (7 object(s) would be created)",
    ] {
        ensure!(plan.contains(line), "{line:?} not in\n{plan}");
    }
    ensure!(env.addresses().await?.is_empty());
    ensure!(Api::<BerthPool>::all(client.clone())
        .list(&ListParams::default())
        .await?
        .items
        .is_empty());
    // Only the BerthReservedIP planted above: sr-ext was not written.
    let reserved = Api::<BerthReservedIP>::all(client.clone())
        .list(&ListParams::default())
        .await?;
    ensure!(
        reserved
            .items
            .iter()
            .map(|r| r.name_any())
            .collect::<Vec<_>>()
            == ["sr-infra"],
        "a dry run wrote a BerthReservedIP"
    );

    // The migration.
    let done = env.berth_ok(&["migrate", "spiderpool"])?;
    ensure!(
        done.contains("Created 1 BerthReservedIP(s), 2 BerthPool(s) and 4 BerthAddress(es)."),
        "{done}"
    );
    let reserved = Api::<BerthReservedIP>::all(client.clone());
    ensure!(reserved.get("sr-ext").await?.spec.ips == ["10.25.0.28"]);
    ensure!(reserved.get("sr-infra").await?.spec.ips == ["10.25.0.11"]);
    // A disabled SpiderIPPool comes over disabled.
    let off = Api::<BerthPool>::all(client.clone()).get("sp-off").await?;
    ensure!(off.spec.disable, "{:?}", off.spec);
    let pool = Api::<BerthPool>::all(client.clone()).get(POOL).await?;
    ensure!(
        pool.spec.exclude_ips == ["10.25.0.15"]
            && pool.spec.gateway.as_deref() == Some("10.25.0.1")
            && pool.spec.routes[0].gw.as_deref() == Some("10.25.0.1")
            && pool.spec.node_selector.get("zone").map(String::as_str) == Some("a"),
        "{:?}",
        pool.spec
    );
    let by_ip: BTreeMap<String, BerthAddress> = env
        .addresses()
        .await?
        .into_iter()
        .map(|a| (a.spec.address.clone(), a))
        .collect();
    ensure!(by_ip.len() == 4, "{:?}", by_ip.keys());
    let db0 = &by_ip["10.25.0.21"].spec;
    let identity = db0.identity.as_ref().context("db-0 identity")?;
    ensure!(
        identity.key == "default/db/0" && identity.retention == RetentionKind::KeepUntilRetired
    );
    ensure!(
        db0.state == AddressState::Attached
            && db0.node == "node-a"
            && db0.network == "migrated-from-spiderpool"
    );
    ensure!(db0.pod.uid == uid("db-0")? && db0.interface == "eth0");
    ensure!(db0
        .owner
        .as_ref()
        .is_some_and(|o| o.kind == "StatefulSet" && o.name == "db" && !o.uid.is_empty()));
    ensure!(db0
        .stateful_set
        .as_ref()
        .is_some_and(|s| s.ordinal == 0 && s.replicas == Some(2)));
    let db2 = &by_ip["10.25.0.22"].spec;
    ensure!(
        db2.state == AddressState::Retained
            && db2.expires_at_unix_secs.is_none()
            && db2.attachment.is_none()
    );
    ensure!(db2
        .identity
        .as_ref()
        .is_some_and(|i| i.key == "default/db/2"));
    let web = &by_ip["10.25.0.23"].spec;
    ensure!(web.identity.is_none() && web.state == AddressState::Attached);
    ensure!(
        web.owner
            .as_ref()
            .is_some_and(|o| o.kind == "Deployment" && o.name == "web"),
        "{:?}",
        web.owner
    );
    let explained = env.berth_ok(&["explain", "10.25.0.21"])?;
    ensure!(
        explained.contains("spiderpool-migration [evaluate]: picked 10.25.0.21 from sp-pool"),
        "{explained}"
    );

    // Again: nothing changes.
    let versions = |objects: &[BerthAddress]| -> Vec<(String, Option<String>)> {
        objects
            .iter()
            .map(|o| (o.name_any(), o.resource_version()))
            .collect()
    };
    let before = versions(&env.addresses().await?);
    let pool_version = pool.resource_version();
    let again = env.berth_ok(&["migrate", "spiderpool"])?;
    ensure!(
        again.contains("Nothing to do: everything is migrated already."),
        "{again}"
    );
    ensure!(again.contains("unchanged"), "{again}");
    ensure!(versions(&env.addresses().await?) == before);
    ensure!(
        Api::<BerthPool>::all(client.clone())
            .get(POOL)
            .await?
            .resource_version()
            == pool_version
    );

    held_by_someone_else_stops_it(&env, &allocations).await
}

/// Spiderpool hands out two more addresses; Berth already holds one of
/// them for another pod: the run stops, lists it, writes neither.
async fn held_by_someone_else_stops_it(env: &Env, earlier: &[Allocation]) -> Result<()> {
    let client = &env.client;
    let mut all = earlier.to_vec();
    for (pod, ip) in [("late-a", "10.25.0.24"), ("late-b", "10.25.0.25")] {
        let created = env.pod_with_ips("default", pod, &[]).await?;
        all.push(Allocation {
            namespace: "default".into(),
            pod: pod.into(),
            uid: created.metadata.uid.unwrap_or_default(),
            ip: ip.into(),
            node: "node-b".into(),
            owner_kind: "Pod".into(),
            owner_name: pod.into(),
        });
    }
    spider::allocate(client, POOL, 16, 19, &all[earlier.len()..]).await?;
    spider::set_pool_status(client, POOL, 19, &all).await?;
    let squatter = env
        .plant(&attached(
            POOL,
            "10.25.0.24",
            ("other", "squatter", "uid-sq"),
            None,
            "node-b",
        ))
        .await?;

    let out = env.berth(&["migrate", "spiderpool"]);
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}");
    ensure!(
        out.status.code() == Some(1),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ensure!(
        text.contains("Migration stopped, nothing was written: 1 conflict(s)."),
        "{text}"
    );
    ensure!(
        text.contains("10.25.0.24")
            && text.contains(
                "held in Berth by other/squatter (Spiderpool gives it to default/late-a)"
            ),
        "{text}"
    );
    let names: Vec<String> = env
        .addresses()
        .await?
        .iter()
        .map(ResourceExt::name_any)
        .collect();
    ensure!(
        !names.contains(&"sp-pool.10-25-0-25".to_owned()),
        "written despite the conflict: {names:?}"
    );

    // The operator resolves it; the next run migrates the rest.
    Api::<BerthAddress>::all(client.clone())
        .delete(&squatter.name_any(), &DeleteParams::default())
        .await?;
    let done = env.berth_ok(&["migrate", "spiderpool"])?;
    ensure!(
        done.contains("Created 0 BerthReservedIP(s), 0 BerthPool(s) and 2 BerthAddress(es)."),
        "{done}"
    );
    Ok(())
}

/// A workload whose pods no node runs (its nodeSelector matches none).
fn workload(kind: &str, name: &str, replicas: u32) -> serde_json::Value {
    let mut spec = json!({
        "replicas": replicas,
        "selector": { "matchLabels": { "app": name } },
        "template": {
            "metadata": { "labels": { "app": name }, "annotations": { "ipam.spidernet.io/ippool": "{\"ipv4\":[\"sp-pool\"]}" } },
            "spec": {
                "nodeSelector": { "berth.io/test": "never" },
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
