//! Operator requests (the `berthd` CLI talking to the running daemon over
//! the same root-only socket). Views are flat, printable records so the
//! CLI needs no knowledge of the allocator's types.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "admin", rename_all = "kebab-case")]
pub enum AdminRequest {
    ListPools,
    /// One page of allocations, in address order, starting after the
    /// address `after` (the first page without it). Pages keep every
    /// answer under the frame limit however many records there are.
    ListAllocations {
        #[serde(default)]
        after: Option<String>,
    },
    /// Release one address, or every address of an identity (retires it).
    Release {
        identity: Option<String>,
        pool: Option<String>,
        address: Option<String>,
    },
    /// Explain how an address was chosen; `target` is an address, a
    /// container id, or an identity key.
    Explain {
        target: String,
    },
    /// The request that produced the allocation of `address`, as a
    /// fixture `berth-policy test` and `berth-policy run` accept. The
    /// daemon keeps the newest requests in memory only (bounded): older
    /// allocations, and those made before it started, have none.
    ExplainRequest {
        address: String,
    },
    /// The last refused ADDs, oldest first (kept in memory, bounded).
    ListRefusals,
    /// Reload pools and the policy chain from the config file (as SIGHUP).
    Reload,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolView {
    pub name: String,
    pub subnet: String,
    pub family: String,
    pub used: u64,
    pub total: u64,
    pub default: bool,
    /// True when the pool was removed from the config but still has records.
    pub orphaned: bool,
    /// `disable: true`: hands out no new address.
    #[serde(default)]
    pub disabled: bool,
    /// Assignable addresses that are reserved (held ones included).
    #[serde(default)]
    pub reserved: u64,
    /// Held addresses of this (configured) pool outside its ranges now:
    /// they stay with their holders and are never handed out again.
    #[serde(default)]
    pub orphaned_addresses: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationView {
    pub pool: String,
    pub address: String,
    pub network: String,
    /// "attached" or "retained".
    pub state: String,
    pub container_id: Option<String>,
    pub ifname: String,
    pub pod: String,
    pub identity: Option<String>,
    pub retention: Option<String>,
    pub expires_at_unix_secs: Option<u64>,
    /// Its pool is gone or no longer covers it: held until released, then
    /// never handed out again.
    #[serde(default)]
    pub orphaned: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub pool: String,
    pub address: String,
    pub pod: String,
    pub identity: Option<String>,
    /// The policy (name, and what it says of itself: name and version)
    /// that chose the address; `None` when every policy abstained.
    #[serde(default)]
    pub placed_by: Option<String>,
    /// One line per policy step, in order.
    pub steps: Vec<String>,
}

/// One refused ADD: who asked, why it was refused and by which policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalView {
    pub at_unix_secs: u64,
    pub pod: String,
    pub container_id: String,
    pub ifname: String,
    pub network: String,
    pub kind: crate::ErrorKind,
    /// The error the CNI plugin reported.
    pub reason: String,
    /// The policy that rejected or failed the request, with its name and
    /// version; `None` when the allocator refused it (no free address, an
    /// unknown pool, ...).
    pub policy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "admin", rename_all = "kebab-case")]
pub enum AdminResponse {
    Pools {
        pools: Vec<PoolView>,
    },
    Allocations {
        allocations: Vec<AllocationView>,
        /// Where the next page starts (`after`), when there is one.
        #[serde(default)]
        next: Option<String>,
    },
    Released {
        count: u64,
    },
    Explained {
        explanations: Vec<Explanation>,
    },
    /// A fixture (see `berth-policy test`), as JSON, and the address the
    /// daemon committed for it (the fixture format has no place for it).
    Request {
        fixture: serde_json::Value,
        pool: String,
        address: String,
    },
    Refusals {
        refusals: Vec<RefusalView>,
    },
    Reloaded {
        policies: Vec<String>,
        pools: usize,
        /// Settings that changed in the file but are read only at start
        /// (socketPath, dataDir, metricsAddress, limits, kubernetes,
        /// nodeName): in force after the next restart, not now.
        #[serde(default)]
        needs_restart: Vec<String>,
    },
}
