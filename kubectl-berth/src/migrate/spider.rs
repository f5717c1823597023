//! Spiderpool's objects as its documented API describes them (group
//! `spiderpool.spidernet.io`, version `v2beta1`: the CRD reference pages
//! for SpiderIPPool, SpiderReservedIP and SpiderEndpoint). Written here
//! from those descriptions, only as far as a migration reads them; fields
//! we do not know are kept out of our types but stay on the server.
//!
//! The same types give the CustomResourceDefinitions the tests install
//! ([`super::spider_crds`]).

// clippy reads the repeated `printcolumn(type_ = ...)` arguments of the
// derive as duplicated attributes; they are one column each.
#![allow(clippy::duplicated_attributes)]

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::NamespaceResourceScope;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

pub const GROUP: &str = "spiderpool.spidernet.io";
pub const VERSION: &str = "v2beta1";

/// SpiderIPPool's spec.
#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "spiderpool.spidernet.io",
    version = "v2beta1",
    kind = "SpiderIPPool",
    plural = "spiderippools",
    singular = "spiderippool",
    shortname = "sp",
    category = "spiderpool",
    status = "IPPoolStatus",
    printcolumn(name = "VERSION", type_ = "string", json_path = ".spec.ipVersion"),
    printcolumn(name = "SUBNET", type_ = "string", json_path = ".spec.subnet"),
    printcolumn(
        name = "ALLOCATED-IP-COUNT",
        type_ = "integer",
        json_path = ".status.allocatedIPCount"
    ),
    printcolumn(
        name = "TOTAL-IP-COUNT",
        type_ = "integer",
        json_path = ".status.totalIPCount"
    ),
    printcolumn(name = "DEFAULT", type_ = "boolean", json_path = ".spec.default")
)]
#[serde(rename_all = "camelCase")]
pub struct IPPoolSpec {
    /// 4 or 6.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_version: Option<i64>,
    pub subnet: String,
    /// Ranges ("a-b") and single addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ips: Vec<String>,
    #[serde(default, rename = "excludeIPs", skip_serializing_if = "Vec::is_empty")]
    pub exclude_ips: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// Deprecated in Spiderpool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<SpiderRoute>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_affinity: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_affinity: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespace_name: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_affinity: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_name: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub multus_name: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable: Option<bool>,
}

/// A Kubernetes label selector (`metav1.LabelSelector`), as Spiderpool's
/// affinities use it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_expressions: Option<Vec<LabelSelectorRequirement>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LabelSelectorRequirement {
    pub key: String,
    /// In, NotIn, Exists, DoesNotExist.
    pub operator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SpiderRoute {
    pub dst: String,
    pub gw: String,
}

/// SpiderIPPool's status (its own subresource).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IPPoolStatus {
    /// A JSON object in a string: address → [`PoolIPAllocation`].
    #[serde(
        default,
        rename = "allocatedIPs",
        skip_serializing_if = "Option::is_none"
    )]
    pub allocated_ips: Option<String>,
    #[serde(
        default,
        rename = "totalIPCount",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_ip_count: Option<i64>,
    #[serde(
        default,
        rename = "allocatedIPCount",
        skip_serializing_if = "Option::is_none"
    )]
    pub allocated_ip_count: Option<i64>,
}

/// One entry of `status.allocatedIPs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolIPAllocation {
    /// "namespace/name".
    pub pod: String,
    #[serde(default)]
    pub pod_uid: String,
}

impl IPPoolStatus {
    /// The allocations the status lists, by address text.
    pub fn allocations(&self) -> Result<BTreeMap<String, PoolIPAllocation>, serde_json::Error> {
        match self.allocated_ips.as_deref() {
            None | Some("") => Ok(BTreeMap::new()),
            Some(text) => serde_json::from_str(text),
        }
    }
}

/// SpiderReservedIP's spec: addresses no pool hands out.
#[derive(
    CustomResource, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema,
)]
#[kube(
    group = "spiderpool.spidernet.io",
    version = "v2beta1",
    kind = "SpiderReservedIP",
    plural = "spiderreservedips",
    singular = "spiderreservedip",
    shortname = "sr",
    category = "spiderpool",
    printcolumn(name = "VERSION", type_ = "string", json_path = ".spec.ipVersion")
)]
#[serde(rename_all = "camelCase")]
pub struct ReservedIPSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_version: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ips: Vec<String>,
}

/// SpiderEndpoint: one per pod (same namespace and name), with no spec;
/// Spiderpool writes everything into `status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SpiderEndpoint {
    #[serde(default = "endpoint_api_version", rename = "apiVersion")]
    pub api_version: String,
    #[serde(default = "endpoint_kind")]
    pub kind: String,
    #[schemars(skip)]
    pub metadata: ObjectMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<WorkloadEndpointStatus>,
}

fn endpoint_api_version() -> String {
    format!("{GROUP}/{VERSION}")
}

fn endpoint_kind() -> String {
    "SpiderEndpoint".to_owned()
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadEndpointStatus {
    pub current: PodIPAllocation,
    pub owner_controller_type: String,
    pub owner_controller_name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PodIPAllocation {
    pub uid: String,
    pub node: String,
    pub ips: Vec<IPAllocationDetail>,
}

/// One interface of the pod: its IPv4 and/or IPv6 address ("a.b.c.d/len")
/// and the pools they came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IPAllocationDetail {
    pub interface: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_pool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_pool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_gateway: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_gateway: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clean_gateway: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<SpiderRoute>,
}

impl kube::Resource for SpiderEndpoint {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("SpiderEndpoint")
    }
    fn group(_: &()) -> Cow<'_, str> {
        Cow::Borrowed(GROUP)
    }
    fn version(_: &()) -> Cow<'_, str> {
        Cow::Borrowed(VERSION)
    }
    fn plural(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("spiderendpoints")
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}
