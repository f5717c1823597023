//! What the store persists: one record per held address, and the
//! mutations the allocator plans over them.

use crate::chain::TraceStep;
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
    pub owner: Option<Owner>,
    #[serde(default)]
    pub stateful_set: Option<StatefulSet>,
    pub created_at_unix_secs: u64,
    /// The chain's explanation of the decision, bounded.
    pub trace: Vec<TraceStep>,
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
