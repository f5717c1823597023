//! Issue 10, item 2: the real kube-apiserver refuses a broken BerthPool at
//! apply time through the CRD's CEL rules (generated from the Rust types,
//! `host/kube/src/pool_rules.rs`), with an error naming the field, and
//! stores nothing. One case per rule, each also refused by the core's own
//! validation (`Pool::from_spec`, which single-host configs and berthd
//! use) on the same field, so the two cannot drift apart unnoticed; and
//! pools near each rule's edge are accepted by both. A bare control plane
//! suffices: CEL runs in the API server.

use anyhow::{bail, ensure, Context, Result};
use berth_cluster::ControlPlane;
use berth_core::limits::{POOL_ENTRIES_MAX, POOL_ENTRY_BYTES_MAX};
use berth_core::{Pool, PoolSpec};
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use serde_json::{json, Value};

/// (object name, spec, error path, words of the message, core's field).
type Case = (
    &'static str,
    Value,
    &'static str,
    &'static str,
    &'static str,
);

fn broken_pools() -> Vec<Case> {
    let many: Vec<String> = (0..=POOL_ENTRIES_MAX)
        .map(|i| format!("10.6.{}.{}", i / 250, 1 + i % 250))
        .collect();
    let long = format!("10.6.0.1-10.6.0.2{}", "0".repeat(POOL_ENTRY_BYTES_MAX));
    vec![
        // subnet: a canonical CIDR
        (
            "host-bits",
            json!({ "subnet": "10.6.0.1/16" }),
            "spec.subnet",
            "canonical form",
            "subnet",
        ),
        (
            "long-v6",
            json!({ "subnet": "fd00:6:0::/64" }),
            "spec.subnet",
            "canonical form",
            "subnet",
        ),
        (
            "no-cidr",
            json!({ "subnet": "10.6.0.0/33" }),
            "spec.subnet",
            "canonical form",
            "subnet",
        ),
        // every entry an address, CIDR or range of one family
        (
            "mixed-range",
            json!({ "subnet": "10.6.0.0/16", "ips": ["10.6.0.1-fd00::1"] }),
            "spec.ips[0]",
            "range start-end of two addresses of one family",
            "ips",
        ),
        // every range and exclusion inside subnet
        (
            "ips-outside",
            json!({ "subnet": "10.6.0.0/16", "ips": ["10.6.0.5", "10.7.0.1-10.7.0.5"] }),
            "spec.ips",
            "ips entry 10.7.0.1-10.7.0.5 is outside subnet 10.6.0.0/16",
            "ips",
        ),
        (
            "exclude-outside",
            json!({ "subnet": "10.6.0.0/16", "excludeIps": ["10.7.0.0/24"] }),
            "spec.excludeIps",
            "excludeIps entry 10.7.0.0/24 is outside subnet",
            "excludeIps",
        ),
        (
            "v6-ips-outside",
            json!({ "subnet": "fd00:6::/64", "ips": ["fd00:7::1"] }),
            "spec.ips",
            "is outside subnet fd00:6::/64",
            "ips",
        ),
        // range start <= end, both families
        (
            "reversed",
            json!({ "subnet": "10.6.0.0/16", "ips": ["10.6.0.1", "10.6.168.110-10.6.168.101"] }),
            "spec.ips[1]",
            "the range starts after its end",
            "ips",
        ),
        (
            "reversed-v6",
            json!({ "subnet": "fd00:6::/64", "ips": ["fd00:6::200-fd00:6::1ff"] }),
            "spec.ips[0]",
            "the range starts after its end",
            "ips",
        ),
        (
            "reversed-exclude",
            json!({ "subnet": "10.6.0.0/16", "excludeIps": ["10.6.1.0-10.6.0.255"] }),
            "spec.excludeIps[0]",
            "the range starts after its end",
            "excludeIps",
        ),
        // gateway inside subnet and outside the ranges
        (
            "gateway-outside",
            json!({ "subnet": "10.6.0.0/16", "gateway": "10.7.0.1" }),
            "spec.gateway",
            "gateway must be an IP address inside subnet",
            "gateway",
        ),
        (
            "gateway-in-range",
            json!({ "subnet": "10.6.0.0/16", "ips": ["10.6.0.1-10.6.0.9"], "gateway": "10.6.0.5" }),
            "spec.gateway",
            "gateway 10.6.0.5 lies inside an entry of ips",
            "gateway",
        ),
        (
            "gateway-range-end",
            json!({ "subnet": "fd00:6::/64", "ips": ["fd00:6::100-fd00:6::1ff"], "gateway": "fd00:6::1ff" }),
            "spec.gateway",
            "lies inside an entry of ips",
            "gateway",
        ),
        (
            "gateway-in-cidr",
            json!({ "subnet": "10.6.0.0/16", "ips": ["10.6.0.0/24"], "gateway": "10.6.0.1" }),
            "spec.gateway",
            "lies inside an entry of ips",
            "gateway",
        ),
        // routes of the pool's family
        (
            "route-dst-v6",
            json!({ "subnet": "10.6.0.0/16", "routes": [{ "dst": "fd00::/8" }] }),
            "spec.routes",
            "must be of the family of subnet 10.6.0.0/16",
            "routes",
        ),
        (
            "route-gw-v6",
            json!({ "subnet": "10.6.0.0/16", "routes": [{ "dst": "10.0.0.0/8", "gw": "fd00::1" }] }),
            "spec.routes",
            "must be of the family of subnet",
            "routes",
        ),
        // the bounds the rules are priced by (limits.rs)
        (
            "too-many",
            json!({ "subnet": "10.6.0.0/16", "ips": many }),
            "spec.ips",
            "Too many",
            "ips",
        ),
        (
            "too-long",
            json!({ "subnet": "10.6.0.0/16", "ips": [long] }),
            "spec.ips[0]",
            "Too long",
            "ips",
        ),
    ]
}

/// Pools on the edge of each rule: both validators accept them.
fn edge_pools() -> Vec<(&'static str, Value)> {
    vec![
        (
            "v4",
            json!({ "subnet": "10.6.0.0/16", "ips": ["10.6.168.101-10.6.168.110", "10.6.1.0/24", "10.6.2.2"],
            "excludeIps": ["10.6.168.105-10.6.168.105"], "gateway": "10.6.168.100",
            "routes": [{ "dst": "10.7.0.0/16", "gw": "10.6.0.1" }, { "dst": "0.0.0.0/0" }] }),
        ),
        (
            "v4-gateway-after-range",
            json!({ "subnet": "10.6.0.0/16", "ips": ["10.6.0.1-10.6.0.9"], "gateway": "10.6.0.10" }),
        ),
        (
            "v6",
            json!({ "subnet": "fd00:6::/64", "ips": ["fd00:6::100-fd00:6::1ff", "fd00:6::1:0/112"],
            "excludeIps": ["fd00:6::150"], "gateway": "fd00:6::1", "routes": [{ "dst": "::/0", "gw": "fd00:6::1" }] }),
        ),
        (
            "v6-range-to-the-end",
            json!({ "subnet": "fd00:7::/64", "ips": ["fd00:7::1-fd00:7::ffff:ffff:ffff:ffff"], "gateway": "fd00:7::" }),
        ),
        (
            "v4-whole-subnet-gateway",
            json!({ "subnet": "10.8.0.0/24", "gateway": "10.8.0.1" }),
        ),
    ]
}

fn object(name: &str, spec: &Value) -> Result<DynamicObject> {
    Ok(serde_json::from_value(json!({
        "apiVersion": "berth.io/v1alpha1",
        "kind": "BerthPool",
        "metadata": { "name": name },
        "spec": spec,
    }))?)
}

/// The core's verdict on the same spec.
fn core_verdict(name: &str, spec: &Value) -> Result<Result<Pool, berth_core::PoolError>> {
    let mut spec = spec.clone();
    spec["name"] = json!(name);
    let spec: PoolSpec = serde_json::from_value(spec).context("a PoolSpec")?;
    Ok(Pool::from_spec(&spec))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_server_refuses_each_broken_pool_naming_the_field() -> Result<()> {
    let control_plane = ControlPlane::start().await?;
    control_plane.install_chart_crds()?;
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("berth.io", "v1alpha1", "BerthPool"),
        "berthpools",
    );
    let pools: Api<DynamicObject> = Api::all_with(control_plane.client().await?, &resource);

    for (name, spec) in edge_pools() {
        core_verdict(name, &spec)?.with_context(|| format!("the core refuses edge pool {name}"))?;
        pools
            .create(&PostParams::default(), &object(name, &spec)?)
            .await
            .with_context(|| format!("the API server refused edge pool {name}"))?;
    }

    let mut failures = Vec::new();
    for (name, spec, path, words, core_field) in broken_pools() {
        match pools
            .create(&PostParams::default(), &object(name, &spec)?)
            .await
        {
            Ok(_) => failures.push(format!("{name}: accepted")),
            Err(kube::Error::Api(status)) => {
                let message = status.message;
                if status.code != 422
                    || !message.contains(&format!("{path}: "))
                    || !message.contains(words)
                {
                    failures.push(format!(
                        "{name}: expected {path}: …{words}… (422), got {}: {message}",
                        status.code
                    ));
                }
            }
            Err(e) => bail!("{name}: {e}"),
        }
        if pools.get_opt(name).await?.is_some() {
            failures.push(format!("{name}: stored"));
        }
        match core_verdict(name, &spec)? {
            Ok(_) => failures.push(format!("{name}: the core accepts it")),
            Err(e) if e.field != core_field => failures.push(format!(
                "{name}: the core names {} ({e}), not {core_field}",
                e.field
            )),
            Err(_) => {}
        }
    }
    ensure!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // subnet is immutable; the rest of a stored pool may change.
    let params = PatchParams::default();
    let moved = pools
        .patch(
            "v4",
            &params,
            &Patch::Merge(json!({ "spec": { "subnet": "10.9.0.0/16" } })),
        )
        .await;
    match moved {
        Ok(_) => bail!("the API server let subnet change"),
        Err(kube::Error::Api(status)) => ensure!(
            status.message.contains("spec.subnet: ")
                && status.message.contains("subnet is immutable"),
            "{}",
            status.message
        ),
        Err(e) => bail!("changing subnet: {e}"),
    }
    let stored = pools.get("v4").await?;
    ensure!(
        stored.data["spec"]["subnet"] == "10.6.0.0/16",
        "{:?}",
        stored.data
    );
    pools
        .patch(
            "v4",
            &params,
            &Patch::Merge(json!({ "spec": { "excludeIps": ["10.6.168.106"] } })),
        )
        .await
        .context("changing excludeIps")?;
    Ok(())
}
