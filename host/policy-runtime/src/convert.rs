//! The one place where generated WIT types and `berth_policy_sdk` types
//! meet. Requests go in unchanged (the allocator already bounded them);
//! every string and list coming back from a guest is bounded here before the
//! chain looks at it, so nonsense becomes `InvalidAnswer`, not host work.

use crate::bindings::{wit, WitMetadata};
use crate::limits::POLICY_ANSWER_STRING_BYTES_MAX;
use berth_core::chain::PolicyError;
use berth_core::limits::DECISION_CANDIDATES_MAX;
use berth_policy_sdk as sdk;

/// The lists a lowered request borrows: built once per call from the
/// request, then lent to [`RequestLists::request`]. No string is copied
/// on the host side; wasmtime copies each straight into guest memory.
pub(crate) struct RequestLists<'a> {
    labels: Vec<wit::KeyValue<'a>>,
    annotations: Vec<wit::KeyValue<'a>>,
    pools: Vec<wit::Pool<'a>>,
    bindings: Vec<wit::Binding<'a>>,
    candidates: Vec<wit::CandidateParam<'a>>,
}

impl<'a> RequestLists<'a> {
    pub fn new(r: &'a sdk::Request) -> Self {
        Self {
            labels: r.labels.iter().map(key_value).collect(),
            annotations: r.annotations.iter().map(key_value).collect(),
            pools: r.pools.iter().map(pool).collect(),
            bindings: r.bindings.iter().map(binding).collect(),
            candidates: r.candidates.iter().map(candidate_in).collect(),
        }
    }

    pub fn request(&'a self, r: &'a sdk::Request) -> wit::Request<'a> {
        wit::Request {
            namespace: &r.namespace,
            pod_name: &r.pod_name,
            pod_uid: &r.pod_uid,
            container_id: &r.container_id,
            labels: &self.labels,
            annotations: &self.annotations,
            node: &r.node,
            interface: &r.interface,
            family: family(r.family),
            owner: r.owner.as_ref().map(|o| wit::Owner {
                kind: &o.kind,
                name: &o.name,
                uid: &o.uid,
            }),
            stateful_set: r.stateful_set.as_ref().map(|s| wit::StatefulSet {
                name: &s.name,
                ordinal: s.ordinal,
                replicas: s.replicas,
            }),
            pools: &self.pools,
            identity: r.identity.as_ref().map(identity_in),
            bindings: &self.bindings,
            candidates: &self.candidates,
            free_total: r.free_total,
            requested: r.requested.as_deref(),
            seed: r.seed,
            now_unix_secs: r.now_unix_secs,
        }
    }
}

fn key_value(kv: &sdk::KeyValue) -> wit::KeyValue<'_> {
    wit::KeyValue {
        key: &kv.key,
        value: &kv.value,
    }
}

fn family(f: sdk::IpFamily) -> wit::IpFamily {
    match f {
        sdk::IpFamily::V4 => wit::IpFamily::V4,
        sdk::IpFamily::V6 => wit::IpFamily::V6,
    }
}

fn pool(p: &sdk::Pool) -> wit::Pool<'_> {
    wit::Pool {
        name: &p.name,
        subnet: &p.subnet,
        family: family(p.family),
        total: p.total,
        free: p.free,
        namespace_used: p.namespace_used,
    }
}

fn identity_in(i: &sdk::Identity) -> wit::IdentityParam<'_> {
    wit::IdentityParam {
        key: &i.key,
        retention: match i.retention {
            sdk::Retention::ReleaseOnDelete => wit::Retention::ReleaseOnDelete,
            sdk::Retention::KeepForSecs(s) => wit::Retention::KeepForSecs(s),
            sdk::Retention::KeepUntilRetired(s) => wit::Retention::KeepUntilRetired(s),
        },
    }
}

fn binding(b: &sdk::Binding) -> wit::Binding<'_> {
    wit::Binding {
        pool: &b.pool,
        address: &b.address,
        interface: &b.interface,
        family: family(b.family),
        attached: b.attached,
    }
}

fn candidate_in(c: &sdk::Candidate) -> wit::CandidateParam<'_> {
    wit::CandidateParam {
        pool: &c.pool,
        address: &c.address,
    }
}

pub(crate) fn identity_out(
    found: Option<wit::IdentityResult>,
) -> Result<Option<sdk::Identity>, PolicyError> {
    let Some(i) = found else {
        return Ok(None);
    };
    Ok(Some(sdk::Identity {
        key: bounded("identity key", i.key)?,
        retention: match i.retention {
            wit::Retention::ReleaseOnDelete => sdk::Retention::ReleaseOnDelete,
            wit::Retention::KeepForSecs(s) => sdk::Retention::KeepForSecs(s),
            wit::Retention::KeepUntilRetired(s) => sdk::Retention::KeepUntilRetired(s),
        },
    }))
}

pub(crate) fn decision_out(d: wit::Decision) -> Result<sdk::Decision, PolicyError> {
    Ok(match d {
        wit::Decision::Abstain => sdk::Decision::Abstain,
        wit::Decision::RestrictPools(names) => {
            bounded_len("restrict-pools", names.len())?;
            let names = names
                .into_iter()
                .map(|n| bounded("pool name", n))
                .collect::<Result<_, _>>()?;
            sdk::Decision::RestrictPools(names)
        }
        wit::Decision::Narrow(list) => sdk::Decision::Narrow(candidates_out("narrow", list)?),
        wit::Decision::Reorder(list) => sdk::Decision::Reorder(candidates_out("reorder", list)?),
        wit::Decision::Pick(c) => sdk::Decision::Pick(candidate_out(c)?),
        wit::Decision::Reject(reason) => sdk::Decision::Reject(bounded("reject reason", reason)?),
    })
}

fn candidates_out(
    what: &str,
    list: Vec<wit::CandidateResult>,
) -> Result<Vec<sdk::Candidate>, PolicyError> {
    bounded_len(what, list.len())?;
    list.into_iter().map(candidate_out).collect()
}

fn candidate_out(c: wit::CandidateResult) -> Result<sdk::Candidate, PolicyError> {
    Ok(sdk::Candidate {
        pool: bounded("candidate pool", c.pool)?,
        address: bounded("candidate address", c.address)?,
    })
}

pub(crate) fn metadata_out(m: WitMetadata) -> Result<sdk::Metadata, PolicyError> {
    Ok(sdk::Metadata {
        name: bounded("metadata name", m.name)?,
        version: bounded("metadata version", m.version)?,
        contract: bounded("metadata contract", m.contract)?,
    })
}

fn bounded_len(what: &str, len: usize) -> Result<(), PolicyError> {
    if len > DECISION_CANDIDATES_MAX {
        return Err(invalid(format!(
            "{what} lists {len} entries, more than {DECISION_CANDIDATES_MAX}"
        )));
    }
    Ok(())
}

fn bounded(what: &str, text: String) -> Result<String, PolicyError> {
    if text.len() > POLICY_ANSWER_STRING_BYTES_MAX {
        return Err(invalid(format!(
            "{what} is {} bytes, more than {POLICY_ANSWER_STRING_BYTES_MAX}",
            text.len()
        )));
    }
    Ok(text)
}

fn invalid(message: String) -> PolicyError {
    PolicyError::new(berth_core::chain::PolicyErrorKind::InvalidAnswer, message)
}
