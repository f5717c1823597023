//! `BerthPool`: a pool as operators write it, cluster-scoped, with the
//! usage `kubectl get bpool` shows in Spiderpool's columns:
//!
//! ```text
//! NAME          SUBNET        ALLOCATED   TOTAL   RESERVED   DEFAULT   VALID   AGE
//! test-ippool   10.6.0.0/16   2           10      1          true      True    5m
//! ```

// clippy reads the repeated `printcolumn(type_ = ...)` arguments of the
// derive as duplicated attributes; they are one column each.
#![allow(clippy::duplicated_attributes)]

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

// The spec mirrors `berth_core::pool::PoolSpec`; the pool's name is the
// object's `metadata.name`. Doc comments here are `kubectl explain` text.
/// The pool's addresses and how requests find it.
#[derive(CustomResource, Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "berth.io",
    version = "v1alpha1",
    kind = "BerthPool",
    plural = "berthpools",
    shortname = "bpool",
    status = "BerthPoolStatus",
    derive = "PartialEq",
    doc = "A Berth address pool. Usage is in status, recomputed from the BerthAddress objects.",
    printcolumn(name = "SUBNET", type_ = "string", json_path = ".spec.subnet"),
    printcolumn(name = "ALLOCATED", type_ = "integer", json_path = ".status.allocated"),
    printcolumn(name = "TOTAL", type_ = "integer", json_path = ".status.total"),
    printcolumn(name = "RESERVED", type_ = "integer", json_path = ".status.reserved"),
    printcolumn(name = "DEFAULT", type_ = "boolean", json_path = ".spec.default"),
    printcolumn(
        name = "VALID",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Valid\")].status"
    ),
    printcolumn(
        name = "AGE",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::pool_rules::add_pool_rules)]
pub struct BerthPoolSpec {
    /// CIDR, e.g. "10.6.0.0/16".
    pub subnet: String,
    /// "a-b" ranges, single addresses or CIDRs; empty means the whole subnet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ips: Vec<String>,
    /// Entries of `ips` never handed out (same forms as `ips`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_ips: Vec<String>,
    /// Gateway returned with each address; never handed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// Routes returned with each address.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<BerthRoute>,
    /// Used for requests that name no pool.
    #[serde(default)]
    pub default: bool,
    /// Labels a pod's namespace must have to use the pool.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub namespace_selector: BTreeMap<String, String>,
    /// Labels a node must have to hand out the pool's addresses.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// No default route via `gateway` in what pods get. Without it a pool
    /// with a gateway gives 0.0.0.0/0 (or ::/0) via the gateway, unless
    /// `routes` lists one. The CNI config's `ipam.cleanGateway` and the
    /// pod's annotations override this.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub clean_gateway: bool,
    /// DNS settings pods get with an address of this pool (the CNI
    /// result's `dns`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<BerthPoolDns>,
    /// Hand out no new address. Held and retained addresses stay, and a
    /// workload holding one keeps it (a re-created StatefulSet pod).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disable: bool,
}

/// The CNI result's `dns` object. Whether it reaches the pod's resolv.conf
/// is the runtime's choice: the kubelet writes a pod's resolv.conf from the
/// pod's dnsPolicy and does not read it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BerthPoolDns {
    /// Resolver addresses, either family (resolvers use the first three).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nameservers: Vec<String>,
    /// Local domain name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Search domains, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub search: Vec<String>,
    /// resolv.conf options, e.g. "ndots:5".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BerthRoute {
    /// Destination CIDR.
    pub dst: String,
    /// Next hop; the pool's gateway when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gw: Option<String>,
}

// Written only through the status subresource, and always recomputed
// from the BerthAddress objects of the pool (never incremented), so a
// lost or repeated write cannot make it drift.
//
// Both counts saturate at `i64::MAX`: Kubernetes integers are int64, and
// an IPv6 pool may hold more addresses than that. A saturated `total`
// reads 9223372036854775807, which is honest ("more than you will use")
// and keeps the column an integer that sorts.
/// Usage of the pool, recomputed by berthd from the BerthAddress objects.
/// Counts saturate at 9223372036854775807 (huge IPv6 pools).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BerthPoolStatus {
    /// Addresses held (attached or retained).
    #[schemars(schema_with = "crate::crd_pool::count_schema")]
    pub allocated: u64,
    /// Assignable addresses: `ips` minus `excludeIps`, gateway, network
    /// and broadcast.
    #[schemars(schema_with = "crate::crd_pool::count_schema")]
    pub total: u64,
    /// Assignable addresses a BerthReservedIP covers (held ones included:
    /// they stay with their holder until released).
    #[serde(default)]
    #[schemars(schema_with = "crate::crd_pool::count_schema")]
    pub reserved: u64,
    /// Held addresses outside the pool's assignable ranges now (the ranges
    /// shrank under them): they stay with their holders and are never
    /// handed out again once released. Counted in `allocated` too.
    #[serde(default)]
    #[schemars(schema_with = "crate::crd_pool::count_schema")]
    pub orphaned: u64,
    /// Why the pool cannot be used, when its spec is invalid or overlaps
    /// an older pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<String>,
    /// `Valid`: whether berthd uses the pool, and why not; `Orphaned`
    /// (while held addresses lie outside the ranges) and `Deleting` (while
    /// deletion waits for held addresses) are warnings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<PoolCondition>,
}

/// A condition in the shape of Kubernetes' `metav1.Condition`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PoolCondition {
    /// "Valid", "Orphaned" or "Deleting".
    #[serde(rename = "type")]
    pub type_: String,
    /// "True" or "False".
    pub status: String,
    /// CamelCase reason: "Accepted", "Invalid", "HeldOutsideRanges",
    /// "AddressesHeld".
    pub reason: String,
    pub message: String,
    /// The `metadata.generation` the condition was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// When `status` last changed (RFC 3339).
    pub last_transition_time: String,
}

impl PoolCondition {
    /// The `Valid` condition for a pool invalid for `problem` (or valid),
    /// keeping the transition time of `previous` when the status holds.
    pub fn valid(
        problem: Option<&str>,
        generation: Option<i64>,
        previous: Option<&PoolCondition>,
    ) -> Self {
        let (status, reason, message) = match problem {
            None => (
                "True",
                "Accepted",
                "berthd hands out this pool's addresses".to_owned(),
            ),
            Some(p) => (
                "False",
                "Invalid",
                format!("{p}; berthd does not use this pool"),
            ),
        };
        Self::new("Valid", status, reason, message, generation, previous)
    }

    /// A condition of `type_`, keeping the transition time of `previous`
    /// (the same type's condition before) when the status holds.
    pub fn new(
        type_: &str,
        status: &str,
        reason: &str,
        message: String,
        generation: Option<i64>,
        previous: Option<&PoolCondition>,
    ) -> Self {
        let last_transition_time = previous
            .filter(|c| c.status == status)
            .map(|c| c.last_transition_time.clone())
            .unwrap_or_else(|| k8s_openapi::jiff::Timestamp::now().to_string());
        PoolCondition {
            type_: type_.to_owned(),
            status: status.to_owned(),
            reason: reason.to_owned(),
            message,
            observed_generation: generation,
            last_transition_time,
        }
    }
}

/// The `Valid` condition of a status, if it has one.
pub fn valid_condition(status: &BerthPoolStatus) -> Option<&PoolCondition> {
    status.conditions.iter().find(|c| c.type_ == "Valid")
}

/// Kubernetes has no unsigned integers; counts are int64 ≥ 0.
pub(crate) fn count_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "integer", "format": "int64", "minimum": 0 })
}

/// A count as stored: saturated at `i64::MAX`.
pub fn saturate_count(n: u64) -> u64 {
    n.min(i64::MAX.unsigned_abs())
}
