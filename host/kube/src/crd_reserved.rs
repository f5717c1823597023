//! `BerthReservedIP`: addresses no node hands out, whatever pool covers
//! them (Spiderpool's SpiderReservedIP, without its IP-version field: each
//! entry says its family). Cluster-scoped; operators write it, berthd only
//! reads it (at start and every `poolSyncIntervalSecs`).
//!
//! ```text
//! NAME      IPS                                    AGE
//! routers   ["10.6.168.101","10.6.168.110"]        5m
//! ```
//!
//! An address reserved while it is held stays with its holder until it is
//! released, and is then not handed out again while reserved. The API
//! server refuses a malformed entry (CEL, the same rules as a pool's
//! `ips`); berthd still parses each object and leaves out one it cannot
//! read, whole, logging why.

// clippy reads the repeated `printcolumn(type_ = ...)` arguments of the
// derive as duplicated attributes; they are one column each.
#![allow(clippy::duplicated_attributes)]

use crate::error::KubeError;
use crate::list::list_all;
use berth_core::limits::{POOL_ENTRIES_MAX, POOL_ENTRY_BYTES_MAX};
use berth_core::reserved::Reserved;
use kube::api::{Api, ListParams};
use kube::{Client, CustomResource, ResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

// Doc comments here are `kubectl explain` text.
/// Addresses Berth never hands out.
#[derive(CustomResource, Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "berth.io",
    version = "v1alpha1",
    kind = "BerthReservedIP",
    plural = "berthreservedips",
    shortname = "brip",
    derive = "PartialEq",
    doc = "Addresses no Berth pool hands out. One reserved while held stays with its holder until released.",
    printcolumn(name = "IPS", type_ = "string", json_path = ".spec.ips"),
    printcolumn(
        name = "AGE",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = add_reserved_rules)]
pub struct BerthReservedIPSpec {
    /// Addresses, CIDRs (canonical: no host bits) or ranges "start-end"
    /// of one family; either family.
    pub ips: Vec<String>,
}

/// `#[schemars(transform = ...)]` of `BerthReservedIPSpec`: the entry
/// rules of a pool's `ips` (no subnet to be inside of), CIDRs canonical,
/// one to `POOL_ENTRIES_MAX` entries.
fn add_reserved_rules(schema: &mut schemars::Schema) {
    let ips = schema
        .as_object_mut()
        .and_then(|s| s.get_mut("properties"))
        .and_then(|p| p.get_mut("ips"))
        .and_then(Value::as_object_mut);
    if let Some(ips) = ips {
        ips.insert("minItems".into(), json!(1));
        ips.insert("maxItems".into(), json!(POOL_ENTRIES_MAX));
        if let Some(item) = ips.get_mut("items").and_then(Value::as_object_mut) {
            item.insert("maxLength".into(), json!(POOL_ENTRY_BYTES_MAX));
            let mut rules = crate::pool_rules::entry_rules();
            if let Some(list) = rules.as_array_mut() {
                list.push(json!({
                    "rule": "!isCIDR(self) || string(cidr(self).masked()) == self",
                    "message": "a CIDR must be in canonical form: no host bits set \
                                (10.6.0.0/24, fd00:6::/120)",
                }));
            }
            item.insert("x-kubernetes-validations".into(), rules);
        }
    }
}

/// The reservations of `objects` together. An object with a bad entry is
/// left out whole (the others still apply) and named in the problems.
pub fn reserved_of(objects: &[BerthReservedIP]) -> (Reserved, Vec<String>) {
    let mut ordered: Vec<&BerthReservedIP> = objects.iter().collect();
    ordered.sort_by_key(|o| o.name_any());
    let mut reserved = Reserved::default();
    let mut problems = Vec::new();
    for object in ordered {
        if let Err(e) = reserved.add(&object.spec.ips) {
            problems.push(format!(
                "BerthReservedIP {:?}: {e}; not applied",
                object.name_any()
            ));
        }
    }
    (reserved, problems)
}

/// Every BerthReservedIP of the cluster, together (see [`reserved_of`]).
pub async fn reserved_in_cluster(client: &Client) -> Result<(Reserved, Vec<String>), KubeError> {
    let api: Api<BerthReservedIP> = Api::all(client.clone());
    let objects = list_all(&api, &ListParams::default())
        .await
        .map_err(|e| KubeError::Request {
            operation: "list",
            object: "berthreservedips".to_owned(),
            message: e.to_string(),
        })?;
    Ok(reserved_of(&objects))
}
