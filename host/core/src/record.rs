//! What the store persists: one record per held address, and the
//! mutations the allocator plans over them.

use crate::chain::TraceStep;
use crate::limits::RECORD_TRACE_STEPS_MAX;
use crate::pool::family_of;
use berth_policy_sdk::{Identity, IpFamily, Owner, Retention, StatefulSet};
use berth_proto::{Attachment, PodRef};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Whether a live container uses the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum RecordState {
    Attached,
    /// Kept for its identity after DEL; freed at `expires_at_unix_secs`,
    /// or never while `None` (until the identity is retired).
    #[serde(rename_all = "camelCase")]
    Retained {
        since_unix_secs: u64,
        expires_at_unix_secs: Option<u64>,
    },
}

/// The pod's controller as its ownerReference names it. `api_version`
/// ("apps/v1", "apps.kruise.io/v1beta1") says which API the owner is read
/// from; the policies see the rest ([`OwnerRef::for_policy`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerRef {
    /// Empty in records written before it was kept: read as `apps/v1`,
    /// the only API those records' StatefulSets were read from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub uid: String,
}

impl OwnerRef {
    /// The API group ("" for the core group, "apps" when unrecorded).
    pub fn group(&self) -> &str {
        match self.api_version.rsplit_once('/') {
            Some((group, _)) => group,
            None if self.api_version.is_empty() => "apps",
            None => "",
        }
    }

    /// The API version ("v1" when unrecorded).
    pub fn version(&self) -> &str {
        match self.api_version.rsplit_once('/') {
            Some((_, version)) => version,
            None if self.api_version.is_empty() => "v1",
            None => &self.api_version,
        }
    }

    /// What the policy contract shows of the owner.
    pub fn for_policy(&self) -> Owner {
        Owner {
            kind: self.kind.clone(),
            name: self.name.clone(),
            uid: self.uid.clone(),
        }
    }
}

/// One held address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressRecord {
    pub pool: String,
    pub address: IpAddr,
    /// The CNI network name the address was handed out on.
    pub network: String,
    /// `None` while retained.
    pub attachment: Option<Attachment>,
    pub pod: PodRef,
    /// Interface inside the container ("eth0").
    pub interface: String,
    pub identity: Option<Identity>,
    pub state: RecordState,
    /// The node that handed the address out (Kubernetes GC ownership).
    #[serde(default)]
    pub node: String,
    /// The pod's controller when known; GC retires a StatefulSet identity
    /// once its ordinal is scaled away or the StatefulSet is deleted.
    #[serde(default)]
    pub owner: Option<OwnerRef>,
    #[serde(default)]
    pub stateful_set: Option<StatefulSet>,
    pub created_at_unix_secs: u64,
    /// The chain's explanation of the decision: the steps that did
    /// something (see [`recorded_trace`]), bounded.
    pub trace: Vec<TraceStep>,
}

/// The part of a chain's trace a record keeps: every step except
/// abstentions, at most `RECORD_TRACE_STEPS_MAX`. Abstentions say nothing
/// about why an address was chosen, and with a long chain they were most
/// of a record's memory (20 of them per record for 10 policies, ~2.7 KB).
pub fn recorded_trace(trace: Vec<TraceStep>) -> Vec<TraceStep> {
    let mut kept: Vec<TraceStep> = trace
        .into_iter()
        .filter(|step| !step.outcome.is_abstention())
        .take(RECORD_TRACE_STEPS_MAX)
        .collect();
    kept.shrink_to_fit();
    kept
}

impl AddressRecord {
    pub fn family(&self) -> IpFamily {
        family_of(&self.address)
    }

    /// The store key: "pool/address" (pool names cannot contain '/').
    pub fn key(&self) -> String {
        record_key(&self.pool, self.address)
    }

    pub fn identity_key(&self) -> Option<&str> {
        self.identity.as_ref().map(|i| i.key.as_str())
    }

    pub fn retention(&self) -> Retention {
        self.identity
            .as_ref()
            .map_or(Retention::ReleaseOnDelete, |i| i.retention)
    }

    pub fn is_attached(&self) -> bool {
        matches!(self.state, RecordState::Attached)
    }

    /// Checks what must hold of any single record, wherever it came from.
    pub fn check_shape(&self) -> Result<(), String> {
        match (&self.state, &self.attachment) {
            (RecordState::Attached, None) => {
                return Err(format!("{}: attached without an attachment", self.key()))
            }
            (RecordState::Retained { .. }, Some(_)) => {
                return Err(format!("{}: retained but still attached", self.key()))
            }
            _ => {}
        }
        if self.pool.is_empty() || self.pool.contains('/') {
            return Err(format!("{}: bad pool name", self.key()));
        }
        Ok(())
    }
}

pub fn record_key(pool: &str, address: IpAddr) -> String {
    format!("{pool}/{address}")
}

/// One change to the set of records. A batch of them is persisted in one
/// atomic store write, then applied to the allocator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
// Batches are a few mutations long and short-lived; boxing would only
// make every plan and store match on a Box.
#[allow(clippy::large_enum_variant)]
#[serde(rename_all = "camelCase")]
pub enum Mutation {
    /// Create or replace the record of `record.address`.
    Put(AddressRecord),
    Remove {
        pool: String,
        address: IpAddr,
    },
}

impl Mutation {
    pub fn key(&self) -> String {
        match self {
            Mutation::Put(r) => r.key(),
            Mutation::Remove { pool, address } => record_key(pool, *address),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{Phase, StepOutcome};
    use berth_policy_sdk::{Candidate, Decision};

    #[test]
    fn records_keep_only_the_steps_that_did_something() {
        let pick = StepOutcome::Decided(Decision::Pick(Candidate {
            pool: "p".into(),
            address: "10.0.0.5".into(),
        }));
        let mut trace = Vec::new();
        for i in 0..40 {
            let name = format!("quiet-{i}");
            trace.push(TraceStep::new(
                &name,
                Phase::Identify,
                StepOutcome::Identified(None),
            ));
            trace.push(TraceStep::new(
                &name,
                Phase::Evaluate,
                StepOutcome::Decided(Decision::Abstain),
            ));
        }
        trace.push(TraceStep::new("picker", Phase::Evaluate, pick.clone()));
        assert_eq!(
            recorded_trace(trace),
            vec![TraceStep::new("picker", Phase::Evaluate, pick.clone())]
        );
        let loud: Vec<TraceStep> = (0..RECORD_TRACE_STEPS_MAX + 5)
            .map(|i| TraceStep::new(format!("p{i}"), Phase::Evaluate, pick.clone()))
            .collect();
        assert_eq!(recorded_trace(loud).len(), RECORD_TRACE_STEPS_MAX);
    }
}
