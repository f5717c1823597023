//! ordinal-pinned: StatefulSet pod N takes the N-th address (0-based) of a
//! configured range, like a static ordinal -> address map.
//!
//! Settings: `{"range": "10.6.168.101-10.6.168.110", "statefulSets":
//! ["test-sts"], "pool": "test-ippool"}`; `statefulSets` (a filter by
//! name) and `pool` are optional. Without `pool` the address goes to the
//! first candidate pool whose subnet contains it. A request of the other
//! family, or a pod outside the filter, is left to the rest of the chain.

// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

use berth_policy_sdk::addr::{AddrRange, Cidr};
use berth_policy_sdk::{Candidate, Decision, IpFamily, Policy, Request};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    #[serde(default)]
    pub range: String,
    #[serde(default)]
    pub stateful_sets: Option<Vec<String>>,
    #[serde(default)]
    pub pool: Option<String>,
}

pub struct OrdinalPinned;

impl Policy for OrdinalPinned {
    type Settings = Settings;
    const NAME: &'static str = "ordinal-pinned";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn validate(s: &Settings) -> Result<(), String> {
        if s.range.trim().is_empty() {
            return Err("range is required, e.g. \"10.6.168.101-10.6.168.110\"".into());
        }
        AddrRange::parse(&s.range).map_err(|e| format!("range: {e}"))?;
        if s.pool.as_ref().is_some_and(|p| p.trim().is_empty()) {
            return Err("pool: must not be empty when given".into());
        }
        if let Some(names) = &s.stateful_sets {
            if names.iter().any(|n| n.trim().is_empty()) {
                return Err("statefulSets: names must not be empty".into());
            }
        }
        Ok(())
    }

    fn evaluate(s: &Settings, request: &Request) -> Decision {
        let Some(sts) = &request.stateful_set else {
            return Decision::Abstain;
        };
        if s.stateful_sets
            .as_ref()
            .is_some_and(|f| !f.contains(&sts.name))
        {
            return Decision::Abstain;
        }
        let range = match AddrRange::parse(&s.range) {
            Ok(range) => range,
            Err(e) => return Decision::Reject(format!("invalid settings: range: {e}")),
        };
        let v4 = range.start().is_ipv4();
        if v4 != (request.family == IpFamily::V4) {
            return Decision::Abstain;
        }
        let Some(address) = range.nth(u128::from(sts.ordinal)) else {
            return Decision::Reject(format!(
                "ordinal {} of {}/{} is past the {} addresses of {range}",
                sts.ordinal,
                request.namespace,
                sts.name,
                range.len()
            ));
        };
        let contains = |subnet: &str| Cidr::parse(subnet).is_ok_and(|c| c.contains(address));
        let pool = match &s.pool {
            Some(name) => match request.pools.iter().find(|p| p.name == *name) {
                Some(p) if contains(&p.subnet) => p,
                Some(p) => {
                    return Decision::Reject(format!(
                        "{address} (ordinal {} of {}/{}) is outside pool {name} ({})",
                        sts.ordinal, request.namespace, sts.name, p.subnet
                    ))
                }
                None => {
                    return Decision::Reject(format!(
                        "pool {name} is not a candidate for {}/{} (candidates: {})",
                        request.namespace,
                        request.pod_name,
                        pool_names(request)
                    ))
                }
            },
            None => match request.pools.iter().find(|p| contains(&p.subnet)) {
                Some(p) => p,
                None => {
                    return Decision::Reject(format!(
                    "no candidate pool contains {address} (ordinal {} of {}/{}; candidates: {})",
                    sts.ordinal,
                    request.namespace,
                    sts.name,
                    pool_names(request)
                ))
                }
            },
        };
        Decision::Pick(Candidate {
            pool: pool.name.clone(),
            address: address.to_string(),
        })
    }
}

fn pool_names(request: &Request) -> String {
    if request.pools.is_empty() {
        return "none".into();
    }
    let names: Vec<&str> = request.pools.iter().map(|p| p.name.as_str()).collect();
    names.join(", ")
}

berth_policy_sdk::export_policy!(OrdinalPinned);

#[cfg(test)]
mod tests;
