//! infra-reserve: keeps address ranges of a pool for infrastructure pods.
//!
//! Settings:
//! `{"infra": {"matchLabels": {"role": "infra"}},
//!   "reserve": [{"pool": "lab", "range": "10.70.0.1-10.70.0.9"}]}`.
//!
//! A pod the `infra` selector matches gets the first free address of the
//! reserved ranges of its candidate pools (in pool priority order), found
//! with the host's `free-in-range` query; when they are all taken it is
//! rejected, or with `"fallBackWhenFull": true` left to the ordinary
//! addresses. With `"cooldownSecs": N`, a reserved address released less
//! than N seconds ago (the host's `released-at`) is passed over while
//! another is free, so a peer's ARP cache or firewall entry for the old
//! holder can expire before the address moves to another infra pod. Every other pod never gets a reserved address: reserved
//! candidates are narrowed away, and when the sampled candidates were all
//! reserved, the first free address outside the reserve is picked through
//! the same query. A request for a specific reserved address by a non-infra
//! pod is rejected.
//!
//! This needs contract 0.2: the 32 sampled candidates of 0.1 start at a
//! scattered point of the pool, so "is any of .1–.9 still free?" had no
//! answer and the reserve worked in a third of the ADDs.

// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod reserve;

use berth_policy_sdk::query;
use berth_policy_sdk::selector::LabelSelector;
use berth_policy_sdk::{Candidate, Decision, Policy, Request};
use reserve::{Reserve, Segment};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    /// Which pods are infrastructure.
    #[serde(default)]
    pub infra: LabelSelector,
    /// The reserved ranges, per pool.
    #[serde(default)]
    pub reserve: Vec<Reserve>,
    /// An infra pod whose reserve is full gets an ordinary address instead
    /// of being rejected.
    #[serde(default)]
    pub fall_back_when_full: bool,
    /// Pass over reserved addresses released less than this long ago.
    #[serde(default)]
    pub cooldown_secs: u64,
}

/// Free reserved addresses looked at per range when a cooldown may pass
/// some over: bounded, as every host query is.
const COOLDOWN_SCAN: u32 = 16;

pub struct InfraReserve;

impl Policy for InfraReserve {
    type Settings = Settings;
    const NAME: &'static str = "infra-reserve";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn validate(s: &Settings) -> Result<(), String> {
        s.infra.validate().map_err(|e| format!("infra: {e}"))?;
        if s.infra.match_labels.is_empty() && s.infra.match_expressions.is_empty() {
            return Err("infra: an empty selector would make every pod infra".into());
        }
        if s.reserve.is_empty() {
            return Err("reserve: at least one range is needed".into());
        }
        for (i, r) in s.reserve.iter().enumerate() {
            r.validate().map_err(|e| format!("reserve[{i}]: {e}"))?;
        }
        Ok(())
    }

    fn evaluate(s: &Settings, request: &Request) -> Decision {
        if s.infra.matches(&request.labels) {
            infra(s, request)
        } else {
            others(s, request)
        }
    }
}

/// An infra pod: an address it already holds in the reserve, else the
/// first free reserved address of its pools.
fn infra(s: &Settings, request: &Request) -> Decision {
    if let Some(held) = request
        .candidates
        .iter()
        .find(|c| reserved(s, c) && request.bindings.iter().any(|b| b.address == c.address))
    {
        return Decision::Pick(held.clone());
    }
    for pool in &request.pools {
        for r in s.reserve.iter().filter(|r| r.pool == pool.name) {
            let (first, last) = r.bounds();
            let limit = if s.cooldown_secs == 0 {
                1
            } else {
                COOLDOWN_SCAN
            };
            let free = query::free_in_range(&pool.name, &first, &last, limit);
            if let Some(address) = free.into_iter().find(|a| cooled(s, request, &pool.name, a)) {
                return Decision::Pick(Candidate {
                    pool: pool.name.clone(),
                    address,
                });
            }
        }
    }
    if s.fall_back_when_full {
        return Decision::Abstain;
    }
    Decision::Reject(format!(
        "infra-reserve: no free address left in the ranges reserved for infra pods ({})",
        describe(s, request)
    ))
}

/// Any other pod: never a reserved address.
fn others(s: &Settings, request: &Request) -> Decision {
    if let Some(want) = &request.requested {
        if let Some(c) = request.candidates.iter().find(|c| c.address == *want) {
            if reserved(s, c) {
                return Decision::Reject(format!(
                    "infra-reserve: {want} is reserved for infra pods (pool {})",
                    c.pool
                ));
            }
        }
        return Decision::Abstain;
    }
    let allowed: Vec<Candidate> = request
        .candidates
        .iter()
        .filter(|c| !reserved(s, c))
        .cloned()
        .collect();
    if allowed.len() == request.candidates.len() && !allowed.is_empty() {
        return Decision::Abstain;
    }
    if !allowed.is_empty() {
        return Decision::Narrow(allowed);
    }
    // Every sampled candidate was reserved: ask for a free address outside.
    for pool in &request.pools {
        let ranges: Vec<&Reserve> = s.reserve.iter().filter(|r| r.pool == pool.name).collect();
        for segment in Segment::outside(&pool.subnet, &ranges) {
            let (first, last) = segment.bounds();
            if let Some(address) = query::free_in_range(&pool.name, &first, &last, 1).pop() {
                return Decision::Pick(Candidate {
                    pool: pool.name.clone(),
                    address,
                });
            }
        }
    }
    Decision::Reject(format!(
        "infra-reserve: only addresses reserved for infra pods are free ({})",
        describe(s, request)
    ))
}

/// Whether `address` was released at least the cooldown ago; an address
/// the host knows no release of has cooled.
fn cooled(s: &Settings, request: &Request, pool: &str, address: &str) -> bool {
    if s.cooldown_secs == 0 {
        return true;
    }
    match query::released_at(pool, address) {
        Some(at) => request.now_unix_secs.saturating_sub(at) >= s.cooldown_secs,
        None => true,
    }
}

fn reserved(s: &Settings, c: &Candidate) -> bool {
    s.reserve
        .iter()
        .any(|r| r.pool == c.pool && r.contains(&c.address))
}

fn describe(s: &Settings, request: &Request) -> String {
    let ranges: Vec<String> = s
        .reserve
        .iter()
        .filter(|r| request.pools.iter().any(|p| p.name == r.pool))
        .map(|r| format!("{} {}", r.pool, r.range))
        .collect();
    if ranges.is_empty() {
        "none of the candidate pools has a reserve".to_owned()
    } else {
        ranges.join(", ")
    }
}

berth_policy_sdk::export_policy!(InfraReserve);

#[cfg(test)]
mod tests;
