//! `kubectl berth explain`: the decision trace stored with an address,
//! worded as `berthd explain` words it (`berth_core::describe`).

use crate::output::{structured, Format};
use crate::read::{self, Held};
use berth_core::describe;
use berth_kube::list::list_all;
use berth_kube::names::{address_object_name, identity_hash, LABEL_IDENTITY_HASH};
use berth_kube::BerthAddress;
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub object: String,
    pub pool: String,
    pub address: String,
    pub pod: String,
    pub node: String,
    pub state: String,
    pub identity: Option<String>,
    pub retention: Option<String>,
    /// The steps in order, one line each.
    pub steps: Vec<String>,
    /// Why berthd cannot read this object, if it cannot.
    pub malformed: Option<String>,
}

/// The objects `target` names: an address (in any pool) or an identity key.
pub async fn find(client: &Client, target: &str) -> anyhow::Result<Vec<Held>> {
    match target.parse::<IpAddr>() {
        Ok(address) => by_address(client, address).await,
        Err(_) => find_identity(client, target).await,
    }
}

/// One GET per pool (an address has one object name per pool); only when
/// no pool holds it, a full listing, which also finds addresses of pools
/// deleted since.
async fn by_address(client: &Client, address: IpAddr) -> anyhow::Result<Vec<Held>> {
    let mut found = Vec::new();
    for pool in read::pools(client).await? {
        let name = address_object_name(&pool.name_any(), address);
        if let Some(held) = read::address(client, &name).await? {
            found.push(held);
        }
    }
    if found.is_empty() {
        found = read::addresses(client, None, None)
            .await?
            .into_iter()
            .filter(|h| h.object.spec.address.parse::<IpAddr>().ok() == Some(address))
            .collect();
    }
    Ok(found)
}

/// The objects bound to identity `key` (selected by its label hash).
pub async fn find_identity(client: &Client, key: &str) -> anyhow::Result<Vec<Held>> {
    let api: Api<BerthAddress> = Api::all(client.clone());
    let params =
        ListParams::default().labels(&format!("{LABEL_IDENTITY_HASH}={}", identity_hash(key)));
    let objects = list_all(&api, &params)
        .await
        .map_err(|e| anyhow::anyhow!("listing berthaddresses of identity {key}: {e}"))?;
    Ok(objects
        .into_iter()
        .filter(|o| o.spec.identity.as_ref().is_some_and(|i| i.key == key))
        .map(Held::new)
        .collect())
}

pub fn explanation(h: &Held) -> Explanation {
    let s = &h.object.spec;
    let (steps, retention, malformed) = match &h.record {
        Ok(r) => (
            if r.trace.is_empty() {
                vec![describe::NO_STEPS.to_owned()]
            } else {
                r.trace.iter().map(describe::trace_step).collect()
            },
            r.identity
                .as_ref()
                .map(|i| describe::retention(i.retention)),
            None,
        ),
        Err(e) => (Vec::new(), None, Some(e.to_string())),
    };
    let state = match (&s.state, &s.attachment) {
        (berth_kube::crd_address::AddressState::Attached, Some(a)) => {
            format!("Attached (container {}, {})", a.container_id, a.ifname)
        }
        (berth_kube::crd_address::AddressState::Attached, None) => "Attached".to_owned(),
        (berth_kube::crd_address::AddressState::Retained, _) => "Retained".to_owned(),
    };
    Explanation {
        object: h.name(),
        pool: s.pool.clone(),
        address: s.address.clone(),
        pod: format!("{}/{}", s.pod.namespace, s.pod.name),
        node: s.node.clone(),
        state,
        identity: s.identity.as_ref().map(|i| i.key.clone()),
        retention,
        steps,
        malformed,
    }
}

pub fn render(target: &str, found: &[Explanation], format: Format) -> anyhow::Result<String> {
    if let Some(text) = structured(&found, format)? {
        return Ok(text);
    }
    if found.is_empty() {
        return Ok(format!("No BerthAddress holds {target}.\n"));
    }
    let mut out = String::new();
    for e in found {
        let _ = writeln!(out, "{} (pool {}) for {}", e.address, e.pool, e.pod);
        let _ = writeln!(out, "  object:    berthaddresses/{}", e.object);
        let _ = writeln!(out, "  state:     {} on {}", e.state, e.node);
        let identity = match (&e.identity, &e.retention) {
            (Some(i), Some(r)) => format!("{i} ({r})"),
            (Some(i), None) => i.clone(),
            (None, _) => "none (stateless)".to_owned(),
        };
        let _ = writeln!(out, "  identity:  {identity}");
        if let Some(m) = &e.malformed {
            let _ = writeln!(out, "  malformed: {m}");
        }
        for (i, step) in e.steps.iter().enumerate() {
            let _ = writeln!(out, "  {}. {step}", i + 1);
        }
    }
    Ok(out)
}
