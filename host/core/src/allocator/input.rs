//! What an ADD is asked with and answers, and the checks of its input
//! that come before any policy runs.

use super::Allocator;
use crate::chain::TraceStep;
use crate::error::AllocError;
use crate::limits::{
    REQUESTED_ADDRESSES_MAX, REQUEST_PAIRS_MAX, REQUEST_PAIR_BYTES_MAX, REQUEST_POOLS_MAX,
};
use crate::placement::Placement;
use crate::pool::{family_of, Route};
use crate::record::{Mutation, OwnerRef};
use berth_policy_sdk::{KeyValue, StatefulSet};
use berth_proto::{Attachment, PodRef};
use std::net::IpAddr;

/// Everything an ADD is decided on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddInput {
    pub attachment: Attachment,
    pub network: String,
    pub pod: PodRef,
    /// Interface inside the container, normally `attachment.ifname`.
    pub interface: String,
    /// Pools to take from, highest priority first; empty: pools marked default.
    pub pools: Vec<String>,
    /// Addresses asked for (at most one per family).
    pub requested: Vec<IpAddr>,
    pub labels: Vec<KeyValue>,
    pub annotations: Vec<KeyValue>,
    pub owner: Option<OwnerRef>,
    pub stateful_set: Option<StatefulSet>,
    pub node: String,
    /// Namespace and node labels for pool selectors; `None` evaluates no
    /// selector (single host).
    pub placement: Option<Placement>,
    /// Deterministic per-request seed handed to policies.
    pub seed: u64,
}

/// One address handed to the attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assigned {
    pub pool: String,
    pub address: IpAddr,
    pub prefix_len: u8,
    pub gateway: Option<IpAddr>,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddPlan {
    /// Empty when the attachment already held its addresses.
    pub mutations: Vec<Mutation>,
    pub result: Vec<Assigned>,
    pub trace: Vec<TraceStep>,
}

impl Allocator {
    /// Indexes of the request's pools, in priority order, keeping only
    /// those whose selectors admit `placement`.
    pub(super) fn candidate_pools(
        &self,
        names: &[String],
        placement: Option<&Placement>,
    ) -> Result<Vec<usize>, AllocError> {
        let named = if names.is_empty() {
            let defaults: Vec<usize> = (0..self.pools.len())
                .filter(|i| self.pools[*i].default)
                .take(REQUEST_POOLS_MAX)
                .collect();
            if defaults.is_empty() {
                return Err(AllocError::NoDefaultPool);
            }
            defaults
        } else {
            self.named_pools(names)?
        };
        let Some(placement) = placement else {
            return Ok(named);
        };
        let mut exclusions = Vec::new();
        let admitted: Vec<usize> = named
            .iter()
            .copied()
            .filter(|i| match placement.excluded_by(&self.pools[*i]) {
                None => true,
                Some(why) => {
                    exclusions.push(why.to_string());
                    false
                }
            })
            .collect();
        if admitted.is_empty() {
            return Err(AllocError::NotAdmitted {
                namespace: placement.namespace.clone(),
                node: placement.node.clone(),
                reasons: exclusions,
            });
        }
        Ok(admitted)
    }

    fn named_pools(&self, names: &[String]) -> Result<Vec<usize>, AllocError> {
        if names.len() > REQUEST_POOLS_MAX {
            return Err(AllocError::TooManyPools {
                count: names.len(),
                max: REQUEST_POOLS_MAX,
            });
        }
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let i = *self
                .pool_index
                .get(name)
                .ok_or_else(|| AllocError::UnknownPool { name: name.clone() })?;
            if !out.contains(&i) {
                out.push(i);
            }
        }
        Ok(out)
    }

    /// Requested addresses: at most one per family, each assignable in a
    /// candidate pool (whether it is free is decided after the chain).
    pub(super) fn check_requested(
        &self,
        requested: &[IpAddr],
        pools: &[usize],
    ) -> Result<Vec<IpAddr>, AllocError> {
        let invalid = |message: String| AllocError::InvalidRequest { message };
        if requested.len() > REQUESTED_ADDRESSES_MAX {
            return Err(invalid(format!(
                "{} addresses requested, at most one per family",
                requested.len()
            )));
        }
        let mut out: Vec<IpAddr> = Vec::with_capacity(requested.len());
        for &addr in requested {
            if out.iter().any(|a| family_of(a) == family_of(&addr)) {
                return Err(invalid(format!(
                    "two addresses of the family of {addr} requested"
                )));
            }
            if !pools.iter().any(|i| self.pools[*i].is_assignable(addr)) {
                return Err(AllocError::AddressUnavailable {
                    address: addr.to_string(),
                    reason: "not an assignable address of the candidate pools".to_owned(),
                });
            }
            out.push(addr);
        }
        Ok(out)
    }
}

/// Labels and annotations as policies see them: bounded in count and size.
pub(super) fn bounded_pairs(pairs: &[KeyValue]) -> Vec<KeyValue> {
    pairs
        .iter()
        .filter(|kv| {
            kv.key.len() <= REQUEST_PAIR_BYTES_MAX && kv.value.len() <= REQUEST_PAIR_BYTES_MAX
        })
        .take(REQUEST_PAIRS_MAX)
        .cloned()
        .collect()
}
