//! Reading what the plan needs: Spiderpool's objects, the pods they name
//! (with their controllers, resolved as berthd resolves them), Berth's
//! objects and the default policy's settings from Berth's config.

use super::model::Workload;
use super::spider::{SpiderEndpoint, SpiderIPPool, SpiderReservedIP};
use crate::limits::BERTH_CONFIG_KEY;
use crate::read::{self, Held};
use anyhow::{bail, Context};
use berth_kube::list::list_all;
use berth_kube::retry::Failure;
use berth_kube::workload::{controller_of, ordinal_of, owner};
use berth_kube::{BerthPool, BerthReservedIP};
use berth_policy_sdk::{Owner, StatefulSet as StsInfo};
use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, ListParams};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::fmt::Debug;
use sticky_statefulset::Settings;

pub struct Source {
    pub spider_pools: Vec<SpiderIPPool>,
    pub reserved: Vec<SpiderReservedIP>,
    pub endpoints: Vec<SpiderEndpoint>,
    pub workloads: BTreeMap<(String, String), Workload>,
    pub berth_pools: Vec<BerthPool>,
    pub berth_reserved: Vec<BerthReservedIP>,
    pub held: Vec<Held>,
    pub sticky: Option<Settings>,
}

pub async fn read(client: &Client, berth_config: &str) -> anyhow::Result<Source> {
    let sticky = sticky_settings(client, berth_config).await?;
    let spider_pools: Vec<SpiderIPPool> = spider(client).await?;
    let reserved: Vec<SpiderReservedIP> = spider(client).await?;
    let endpoints: Vec<SpiderEndpoint> = spider(client).await?;
    let mut workloads = BTreeMap::new();
    for ep in &endpoints {
        let (namespace, name) = (ep.namespace().unwrap_or_default(), ep.name_any());
        let workload = workload(client, ep, &namespace, &name).await?;
        workloads.insert((namespace, name), workload);
    }
    Ok(Source {
        spider_pools,
        reserved,
        endpoints,
        workloads,
        berth_pools: read::pools(client).await?,
        berth_reserved: read::reserved(client).await?,
        held: read::addresses(client, None, None).await?,
        sticky,
    })
}

/// Every object of one Spiderpool kind; a kind whose CRD is not installed
/// is an error naming it (there is nothing to migrate from).
async fn spider<K>(client: &Client) -> anyhow::Result<Vec<K>>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let api: Api<K> = Api::all(client.clone());
    match list_all(&api, &ListParams::default()).await {
        Ok(items) => Ok(items),
        Err(Failure::Api(s)) if s.code == 404 => bail!(
            "{}.{} is not served here: is Spiderpool installed in this cluster?",
            K::plural(&()),
            K::group(&())
        ),
        Err(e) => bail!("listing {}: {e}", K::plural(&())),
    }
}

/// What berthd would learn about the endpoint's pod: running or not, its
/// controller, and for a StatefulSet pod its ordinal and replicas. A pod
/// that is gone is described from the endpoint's owner fields.
async fn workload(
    client: &Client,
    ep: &SpiderEndpoint,
    namespace: &str,
    name: &str,
) -> anyhow::Result<Workload> {
    let status = ep.status.as_ref();
    let uid = status.map(|s| s.current.uid.as_str()).unwrap_or_default();
    let pod = read::pod(client, namespace, name).await?;
    let running = pod.as_ref().is_some_and(|p| {
        let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
        p.metadata.uid.as_deref() == Some(uid) && !matches!(phase, Some("Succeeded" | "Failed"))
    });
    let controller = match &pod {
        Some(p) => controller_of(p.metadata.owner_references.as_deref()).map(owner),
        None => status.map(|s| Owner {
            kind: s.owner_controller_type.clone(),
            name: s.owner_controller_name.clone(),
            uid: String::new(),
        }),
    };
    let Some(mut controller) = controller else {
        return Ok(Workload {
            running,
            ..Workload::default()
        });
    };
    let mut stateful_set = None;
    match controller.kind.as_str() {
        "StatefulSet" => {
            let sts: Option<StatefulSet> = get(client, namespace, &controller.name).await?;
            if let Some(sts) = &sts {
                controller.uid = sts.uid().unwrap_or_default();
            }
            let ordinal = match &pod {
                Some(p) => ordinal_of(p, &controller.name),
                None => ordinal_of(&named(name), &controller.name),
            };
            stateful_set = ordinal.map(|ordinal| StsInfo {
                name: controller.name.clone(),
                ordinal,
                replicas: sts.and_then(|s| u32::try_from(s.spec.replicas.unwrap_or(1)).ok()),
            });
        }
        "ReplicaSet" => {
            let rs: Option<ReplicaSet> = get(client, namespace, &controller.name).await?;
            if let Some(deployment) =
                rs.and_then(|rs| controller_of(rs.metadata.owner_references.as_deref()).map(owner))
            {
                controller = deployment;
            }
        }
        _ => {}
    }
    Ok(Workload {
        running,
        owner: Some(controller),
        stateful_set,
    })
}

/// A pod object carrying only a name (to read an ordinal from it).
fn named(name: &str) -> Pod {
    let mut pod = Pod::default();
    pod.metadata.name = Some(name.to_owned());
    pod
}

async fn get<K>(client: &Client, namespace: &str, name: &str) -> anyhow::Result<Option<K>>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug,
{
    Api::<K>::namespaced(client.clone(), namespace)
        .get_opt(name)
        .await
        .with_context(|| format!("reading {} {namespace}/{name}", K::kind(&())))
}

/// The settings of the first `builtin: sticky-statefulset` policy in
/// Berth's config; `None` when the chain has none (no pod gets an
/// identity). A missing ConfigMap is an error: Berth's chart must be
/// installed before migrating, so the identities match what berthd does.
async fn sticky_settings(client: &Client, config_map: &str) -> anyhow::Result<Option<Settings>> {
    let Some((namespace, name)) = config_map.split_once('/') else {
        bail!("--berth-config {config_map:?}: expected NAMESPACE/NAME");
    };
    let map = Api::<ConfigMap>::namespaced(client.clone(), namespace)
        .get_opt(name)
        .await
        .with_context(|| format!("reading ConfigMap {config_map}"))?
        .with_context(|| {
            format!(
                "ConfigMap {config_map} not found: install Berth's chart first (it holds berthd's \
                 policy settings), or name its config with --berth-config"
            )
        })?;
    let text = map
        .data
        .as_ref()
        .and_then(|d| d.get(BERTH_CONFIG_KEY))
        .with_context(|| format!("ConfigMap {config_map} has no {BERTH_CONFIG_KEY}"))?;
    let config: serde_json::Value = serde_json::from_str(text)
        .with_context(|| format!("{config_map}: {BERTH_CONFIG_KEY} is not JSON"))?;
    // berthd runs the default policy with its default settings when the
    // config names no policies.
    let Some(policies) = config.get("policies").and_then(|p| p.as_array()) else {
        return Ok(Some(Settings::default()));
    };
    let Some(entry) = policies
        .iter()
        .find(|p| p["builtin"] == sticky_statefulset_builtin())
    else {
        return Ok(None);
    };
    let settings = entry
        .get("settings")
        .cloned()
        .unwrap_or(serde_json::json!({}));
    let settings: Settings = serde_json::from_value(settings)
        .with_context(|| format!("{config_map}: the sticky-statefulset settings"))?;
    Ok(Some(settings))
}

fn sticky_statefulset_builtin() -> &'static str {
    <sticky_statefulset::StickyStatefulSet as berth_policy_sdk::Policy>::NAME
}
