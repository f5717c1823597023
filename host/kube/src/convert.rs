//! Conversions between the CRD objects and the core's types.
//!
//! Objects come from the API server, so every field is checked on the way
//! in: a BerthAddress whose name does not match its pool and address, or
//! whose record is malformed, is an error naming the object — never
//! silently dropped, since dropping it would let this node hand the
//! address out again.

use crate::crd_address::{
    AddressState, AttachmentRef, BerthAddress, BerthAddressSpec, IdentitySpec, OwnerSpec,
    PodRefSpec, RetentionKind, StatefulSetSpec,
};
use crate::crd_pool::{BerthPool, BerthPoolDns, BerthPoolSpec, BerthRoute};
use crate::limits::KUBE_TRACE_BYTES_MAX;
use crate::names::{
    address_object_name, identity_hash, label_value, LABEL_IDENTITY_HASH, LABEL_NODE,
    LABEL_POD_UID, LABEL_POOL,
};
use berth_core::chain::TraceStep;
use berth_core::dns::DnsSpec;
use berth_core::limits::IDENTITY_KEY_BYTES_MAX;
use berth_core::pool::{PoolSpec, RouteSpec};
use berth_core::record::{AddressRecord, OwnerRef, RecordState};
use berth_policy_sdk::{Identity, Retention, StatefulSet};
use berth_proto::{Attachment, PodRef};
use kube::api::ObjectMeta;
use kube::ResourceExt;
use std::collections::BTreeMap;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {name:?}: {problem}")]
pub struct ConvertError {
    pub kind: &'static str,
    pub name: String,
    pub problem: String,
}

/// The core's pool configuration from a BerthPool (not yet validated:
/// `Pool::from_spec` does that with errors naming the field).
pub fn pool_spec(pool: &BerthPool) -> Result<PoolSpec, ConvertError> {
    let name = pool.metadata.name.clone().ok_or_else(|| ConvertError {
        kind: "BerthPool",
        name: String::new(),
        problem: "has no metadata.name".to_owned(),
    })?;
    let s = &pool.spec;
    Ok(PoolSpec {
        name,
        subnet: s.subnet.clone(),
        ips: s.ips.clone(),
        exclude_ips: s.exclude_ips.clone(),
        gateway: s.gateway.clone(),
        routes: s
            .routes
            .iter()
            .map(|r| RouteSpec {
                dst: r.dst.clone(),
                gw: r.gw.clone(),
            })
            .collect(),
        default: s.default,
        namespace_selector: s.namespace_selector.clone(),
        node_selector: s.node_selector.clone(),
        clean_gateway: s.clean_gateway,
        dns: s
            .dns
            .as_ref()
            .map(|d| DnsSpec {
                nameservers: d.nameservers.clone(),
                domain: d.domain.clone(),
                search: d.search.clone(),
                options: d.options.clone(),
            })
            .unwrap_or_default(),
        disable: s.disable,
    })
}

/// A BerthPool for a pool configuration (for tests, migration tools and
/// the CLI's "export to cluster").
pub fn berth_pool(spec: &PoolSpec) -> BerthPool {
    BerthPool::new(
        &spec.name,
        BerthPoolSpec {
            subnet: spec.subnet.clone(),
            ips: spec.ips.clone(),
            exclude_ips: spec.exclude_ips.clone(),
            gateway: spec.gateway.clone(),
            routes: spec
                .routes
                .iter()
                .map(|r| BerthRoute {
                    dst: r.dst.clone(),
                    gw: r.gw.clone(),
                })
                .collect(),
            default: spec.default,
            namespace_selector: spec.namespace_selector.clone(),
            node_selector: spec.node_selector.clone(),
            clean_gateway: spec.clean_gateway,
            dns: (spec.dns != DnsSpec::default()).then(|| BerthPoolDns {
                nameservers: spec.dns.nameservers.clone(),
                domain: spec.dns.domain.clone(),
                search: spec.dns.search.clone(),
                options: spec.dns.options.clone(),
            }),
            disable: spec.disable,
        },
    )
}

/// The node a record's object names: the record's own, or the writer's
/// for a record that has none.
fn holder<'a>(record: &'a AddressRecord, writer: &'a str) -> &'a str {
    if record.node.is_empty() {
        writer
    } else {
        &record.node
    }
}

/// The labels of a record's object.
pub fn address_labels(record: &AddressRecord, writer: &str) -> BTreeMap<String, String> {
    let node = holder(record, writer);
    let mut labels = BTreeMap::new();
    labels.insert(LABEL_POOL.to_owned(), label_value(&record.pool));
    labels.insert(LABEL_NODE.to_owned(), label_value(node));
    if let Some(key) = record.identity_key() {
        labels.insert(LABEL_IDENTITY_HASH.to_owned(), identity_hash(key));
    }
    // A pod UID is a UUID, a valid label value; anything else is skipped
    // rather than making the whole write fail.
    if crate::names::is_dns_subdomain(&record.pod.uid) && record.pod.uid.len() <= 63 {
        labels.insert(LABEL_POD_UID.to_owned(), record.pod.uid.clone());
    }
    labels
}

/// The object for `record`, written by node `writer` (no resourceVersion).
pub fn berth_address(record: &AddressRecord, writer: &str) -> BerthAddress {
    let (state, since, expires) = match record.state {
        RecordState::Attached => (AddressState::Attached, None, None),
        RecordState::Retained {
            since_unix_secs,
            expires_at_unix_secs,
        } => (
            AddressState::Retained,
            Some(since_unix_secs),
            expires_at_unix_secs,
        ),
    };
    let spec = BerthAddressSpec {
        pool: record.pool.clone(),
        address: record.address.to_string(),
        network: record.network.clone(),
        attachment: record.attachment.as_ref().map(|a| AttachmentRef {
            container_id: a.container_id.clone(),
            ifname: a.ifname.clone(),
        }),
        pod: PodRefSpec {
            namespace: record.pod.namespace.clone(),
            name: record.pod.name.clone(),
            uid: record.pod.uid.clone(),
        },
        interface: record.interface.clone(),
        identity: record.identity.as_ref().map(identity_spec),
        state,
        retained_since_unix_secs: since,
        expires_at_unix_secs: expires,
        created_at_unix_secs: record.created_at_unix_secs,
        node: holder(record, writer).to_owned(),
        owner: record.owner.as_ref().map(|o| OwnerSpec {
            api_version: o.api_version.clone(),
            kind: o.kind.clone(),
            name: o.name.clone(),
            uid: o.uid.clone(),
        }),
        stateful_set: record.stateful_set.as_ref().map(|s| StatefulSetSpec {
            name: s.name.clone(),
            ordinal: s.ordinal,
            replicas: s.replicas,
        }),
        trace: bounded_trace(&record.trace),
    };
    BerthAddress {
        metadata: ObjectMeta {
            name: Some(address_object_name(&record.pool, record.address)),
            labels: Some(address_labels(record, writer)),
            ..ObjectMeta::default()
        },
        spec,
    }
}

fn identity_spec(identity: &Identity) -> IdentitySpec {
    let (retention, secs) = match identity.retention {
        Retention::ReleaseOnDelete => (RetentionKind::ReleaseOnDelete, None),
        Retention::KeepForSecs(s) => (RetentionKind::KeepForSecs, Some(s)),
        Retention::KeepUntilRetired(g) => (RetentionKind::KeepUntilRetired, Some(g)),
    };
    IdentitySpec {
        key: identity.key.clone(),
        retention,
        retention_secs: secs,
    }
}

/// The trace as JSON, keeping the first steps that fit the byte bound.
fn bounded_trace(trace: &[TraceStep]) -> Vec<serde_json::Value> {
    let mut out = Vec::with_capacity(trace.len());
    let mut bytes = 0usize;
    for step in trace {
        let Ok(value) = serde_json::to_value(step) else {
            break;
        };
        bytes += value.to_string().len();
        if bytes > KUBE_TRACE_BYTES_MAX {
            break;
        }
        out.push(value);
    }
    out
}

/// The record an object holds, checked: the name must be the one its pool
/// and address give, and the record must be well formed.
pub fn address_record(obj: &BerthAddress) -> Result<AddressRecord, ConvertError> {
    let name = obj.name_any();
    let err = |problem: String| ConvertError {
        kind: "BerthAddress",
        name: name.clone(),
        problem,
    };
    let s = &obj.spec;
    let address: IpAddr = s
        .address
        .parse()
        .map_err(|_| err(format!("spec.address {:?} is not an IP address", s.address)))?;
    let expected = address_object_name(&s.pool, address);
    if expected != name {
        return Err(err(format!(
            "holds {}/{address}, whose object is named {expected:?}",
            s.pool
        )));
    }
    let state = match (s.state, s.retained_since_unix_secs) {
        (AddressState::Attached, _) => RecordState::Attached,
        (AddressState::Retained, Some(since)) => RecordState::Retained {
            since_unix_secs: since,
            expires_at_unix_secs: s.expires_at_unix_secs,
        },
        (AddressState::Retained, None) => {
            return Err(err("retained without retainedSinceUnixSecs".to_owned()))
        }
    };
    let identity = match &s.identity {
        None => None,
        Some(i) => Some(identity(i).map_err(&err)?),
    };
    let trace = s
        .trace
        .iter()
        .map(|v| serde_json::from_value::<TraceStep>(v.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(format!("spec.trace: {e}")))?;
    let record = AddressRecord {
        pool: s.pool.clone(),
        address,
        network: s.network.clone(),
        attachment: s.attachment.as_ref().map(|a| Attachment {
            container_id: a.container_id.clone(),
            ifname: a.ifname.clone(),
        }),
        pod: PodRef {
            namespace: s.pod.namespace.clone(),
            name: s.pod.name.clone(),
            uid: s.pod.uid.clone(),
        },
        interface: s.interface.clone(),
        identity,
        state,
        node: s.node.clone(),
        owner: s.owner.as_ref().map(|o| OwnerRef {
            api_version: o.api_version.clone(),
            kind: o.kind.clone(),
            name: o.name.clone(),
            uid: o.uid.clone(),
        }),
        stateful_set: s.stateful_set.as_ref().map(|x| StatefulSet {
            name: x.name.clone(),
            ordinal: x.ordinal,
            replicas: x.replicas,
        }),
        created_at_unix_secs: s.created_at_unix_secs,
        trace,
    };
    record.check_shape().map_err(err)?;
    Ok(record)
}

fn identity(spec: &IdentitySpec) -> Result<Identity, String> {
    if spec.key.is_empty() || spec.key.len() > IDENTITY_KEY_BYTES_MAX {
        return Err(format!(
            "identity key must be 1..={IDENTITY_KEY_BYTES_MAX} bytes, is {}",
            spec.key.len()
        ));
    }
    let secs = || {
        spec.retention_secs
            .ok_or_else(|| format!("identity {:?}: retention needs retentionSecs", spec.key))
    };
    let retention = match spec.retention {
        RetentionKind::ReleaseOnDelete => Retention::ReleaseOnDelete,
        RetentionKind::KeepForSecs => Retention::KeepForSecs(secs()?),
        RetentionKind::KeepUntilRetired => Retention::KeepUntilRetired(secs()?),
    };
    Ok(Identity {
        key: spec.key.clone(),
        retention,
    })
}
