//! Why an allocation request failed. How each reason is said on the
//! socket (the protocol's error kinds) is the daemon's mapping
//! (`host/daemon/src/wire_error.rs`), not the core's.

use crate::chain::ChainError;
use crate::pool::PoolError;
use berth_policy_sdk::IpFamily;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocError {
    #[error("unknown pool {name:?}")]
    UnknownPool { name: String },
    #[error("no pool was named and no pool is marked default")]
    NoDefaultPool,
    #[error(
        "no candidate pool admits namespace {namespace:?} on node {node:?}: {}",
        reasons.join("; ")
    )]
    NotAdmitted {
        namespace: String,
        node: String,
        reasons: Vec<String>,
    },
    #[error("the request names {count} pools, more than {max}")]
    TooManyPools { count: usize, max: usize },
    #[error("invalid request: {message}")]
    InvalidRequest { message: String },
    #[error("address {address} is unavailable: {reason}")]
    AddressUnavailable { address: String, reason: String },
    /// `retained` says how much of the shortage is sticky identities
    /// keeping their address after DEL, which an operator can free.
    #[error(
        "no free {family:?} address in pools {pools:?}: {retained} of them are retained for \
         sticky identities whose pods are gone; free one with `berthd release <address>` \
         (or `kubectl berth release`), list them with `berthd allocations`"
    )]
    PoolExhausted {
        family: IpFamily,
        pools: Vec<String>,
        retained: usize,
    },
    #[error(
        "pools {pools:?} are disabled (disable: true): they hand out no new {family:?} address"
    )]
    PoolsDisabled {
        family: IpFamily,
        pools: Vec<String>,
    },
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(
        "address {address} of the attachment is in pool {pool:?}, which is no longer configured"
    )]
    Orphaned { pool: String, address: IpAddr },
    #[error("no record of {address} in pool {pool:?}")]
    NotFound { pool: String, address: IpAddr },
    #[error(transparent)]
    Pool(#[from] PoolError),
    /// A bug: a choice the allocator made failed its own re-validation.
    #[error("internal allocator error: {message}")]
    Internal { message: String },
    #[error(
        "route to {dst} via {gw}: no pool's subnet holds {gw}, so no interface of the pod can reach it"
    )]
    UnreachableRouteGateway { dst: String, gw: IpAddr },
    #[error("pool pattern {pattern:?} {problem}")]
    BadPoolPattern { pattern: String, problem: String },
    #[error(
        "pool {name:?} is an {} pool but is listed among the {} pools",
        ip_version(*actual),
        ip_version(*wanted)
    )]
    PoolFamily {
        name: String,
        wanted: IpFamily,
        actual: IpFamily,
    },
    #[error("no pool matches {patterns:?}")]
    NoPoolMatches { patterns: Vec<String> },
}

fn ip_version(family: IpFamily) -> &'static str {
    match family {
        IpFamily::V4 => "IPv4",
        IpFamily::V6 => "IPv6",
    }
}

/// Data that must never exist: the allocator refuses to start on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("inconsistent records ({} problems): {}", problems.len(), problems.join("; "))]
pub struct RestoreError {
    pub problems: Vec<String>,
}
