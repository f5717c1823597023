//! `BerthAddress`: one small cluster-scoped object per held address.
//!
//! Its name is derived from pool and address ([`crate::names`]), so the
//! API server refuses a second owner of an address by name uniqueness,
//! with no hot per-pool object. The spec is the store's `AddressRecord`
//! plus the node that wrote it; labels select by pool, node, identity and
//! pod:
//!
//! ```text
//! NAME                       POOL          ADDRESS        POD          IDENTITY             STATE      NODE
//! test-ippool.10-6-168-101   test-ippool   10.6.168.101   test-sts-0   default/test-sts/0   Attached   node-1
//! ```

// clippy reads the repeated `printcolumn(type_ = ...)` arguments of the
// derive as duplicated attributes; they are one column each.
#![allow(clippy::duplicated_attributes)]

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(CustomResource, Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "berth.io",
    version = "v1alpha1",
    kind = "BerthAddress",
    plural = "berthaddresses",
    shortname = "baddr",
    derive = "PartialEq",
    doc = "One address held by Berth: its pool, holder and identity. Written by berthd only.",
    printcolumn(name = "POOL", type_ = "string", json_path = ".spec.pool"),
    printcolumn(name = "ADDRESS", type_ = "string", json_path = ".spec.address"),
    printcolumn(name = "POD", type_ = "string", json_path = ".spec.pod.name"),
    printcolumn(name = "IDENTITY", type_ = "string", json_path = ".spec.identity.key"),
    printcolumn(name = "STATE", type_ = "string", json_path = ".spec.state"),
    printcolumn(name = "NODE", type_ = "string", json_path = ".spec.node"),
    printcolumn(
        name = "AGE",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct BerthAddressSpec {
    pub pool: String,
    /// The address in its canonical text form.
    pub address: String,
    /// The CNI network name the address was handed out on.
    pub network: String,
    /// The container interface holding it; absent while retained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<AttachmentRef>,
    pub pod: PodRefSpec,
    /// Interface inside the container ("eth0").
    pub interface: String,
    /// The workload identity the address is bound to, if a policy named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentitySpec>,
    pub state: AddressState,
    /// Set when retained: since when (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::crd_pool::count_schema")]
    pub retained_since_unix_secs: Option<u64>,
    /// Set when retained with an expiry: when it is freed (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::crd_pool::count_schema")]
    pub expires_at_unix_secs: Option<u64>,
    #[schemars(schema_with = "crate::crd_pool::count_schema")]
    pub created_at_unix_secs: u64,
    /// The node that handed the address out (GC ownership).
    pub node: String,
    /// The pod's controller, when known (GC retires identities by it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<OwnerSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stateful_set: Option<StatefulSetSpec>,
    /// The policy chain's explanation of the decision (bounded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "trace_schema")]
    pub trace: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentRef {
    pub container_id: String,
    pub ifname: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PodRefSpec {
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OwnerSpec {
    /// The owner's `apiVersion` from the pod's ownerReference ("apps/v1",
    /// "apps.kruise.io/v1beta1"): which API GC reads it from. Absent in
    /// objects written before it was kept: read as "apps/v1".
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub uid: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StatefulSetSpec {
    pub name: String,
    #[schemars(schema_with = "crate::crd_pool::count_schema")]
    pub ordinal: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::crd_pool::count_schema")]
    pub replicas: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentitySpec {
    /// E.g. "namespace/statefulset/ordinal".
    pub key: String,
    pub retention: RetentionKind,
    /// Seconds of `KeepForSecs`, or the grace of `KeepUntilRetired`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::crd_pool::count_schema")]
    pub retention_secs: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum RetentionKind {
    ReleaseOnDelete,
    KeepForSecs,
    KeepUntilRetired,
}

// A plain string (not a tagged enum) so it can be a printer column.
/// Attached: a live container uses the address. Retained: kept for its
/// identity after the container went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AddressState {
    Attached,
    Retained,
}

/// Trace steps are the core's `TraceStep` as JSON: their shape belongs to
/// the policy contract and may grow, so the schema keeps them opaque.
fn trace_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "items": { "type": "object", "x-kubernetes-preserve-unknown-fields": true }
    })
}
