//! namespace-quota: caps how many addresses of a pool one namespace holds.
//!
//! Settings: `{"maxPerPool": 20, "pools": ["test-ippool"], "namespaces":
//! {"batch": 5}}`. A namespace's quota is its entry in `namespaces`, else
//! `maxPerPool`; without either it is unlimited. `pools`, when given, limits
//! the quota to those pools. The host reports each pool's usage by the
//! request's namespace (`namespace_used`); pools at or over quota are
//! dropped (restrict-pools), and if none remain the request is rejected.
//!
//! Reuse does not grow usage: a pool where the request's identity already
//! holds an address for this interface and family (a retained sticky
//! binding) is never blocked.

// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

use berth_policy_sdk::{Decision, Policy, Pool, Request};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    #[serde(default)]
    pub max_per_pool: Option<u64>,
    #[serde(default)]
    pub pools: Vec<String>,
    #[serde(default)]
    pub namespaces: BTreeMap<String, u64>,
}

pub struct NamespaceQuota;

impl Policy for NamespaceQuota {
    type Settings = Settings;
    const NAME: &'static str = "namespace-quota";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn validate(s: &Settings) -> Result<(), String> {
        if s.max_per_pool.is_none() && s.namespaces.is_empty() {
            return Err("set maxPerPool or namespaces, or the policy does nothing".into());
        }
        if s.pools.iter().any(|p| p.trim().is_empty()) {
            return Err("pools: names must not be empty".into());
        }
        if s.namespaces.keys().any(|n| n.trim().is_empty()) {
            return Err("namespaces: names must not be empty".into());
        }
        Ok(())
    }

    fn evaluate(s: &Settings, request: &Request) -> Decision {
        let ns = &request.namespace;
        let Some(quota) = s.namespaces.get(ns).copied().or(s.max_per_pool) else {
            return Decision::Abstain;
        };
        let (open, full): (Vec<&Pool>, Vec<&Pool>) = request
            .pools
            .iter()
            .partition(|p| !limited(s, p) || p.namespace_used < quota || reuses(request, p));
        if full.is_empty() {
            return Decision::Abstain;
        }
        if open.is_empty() {
            let why: Vec<String> = full
                .iter()
                .map(|p| {
                    format!(
                        "namespace {ns} already holds {} of {quota} allowed addresses in pool {}",
                        p.namespace_used, p.name
                    )
                })
                .collect();
            return Decision::Reject(why.join("; "));
        }
        Decision::RestrictPools(open.iter().map(|p| p.name.clone()).collect())
    }
}

fn limited(s: &Settings, pool: &Pool) -> bool {
    s.pools.is_empty() || s.pools.contains(&pool.name)
}

/// Whether the identity already holds an address in `pool` that this
/// request would take again.
fn reuses(request: &Request, pool: &Pool) -> bool {
    request.bindings.iter().any(|b| {
        b.pool == pool.name && b.interface == request.interface && b.family == request.family
    })
}

berth_policy_sdk::export_policy!(NamespaceQuota);

#[cfg(test)]
mod tests;
