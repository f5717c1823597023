//! label-pool: routes pods to pools by label selector.
//!
//! Settings: `{"rules": [{"selector": {"matchLabels": {"tier": "db"}},
//! "pools": ["db-a", "db-b"]}]}`. The first rule whose selector matches the
//! pod's labels restricts the request to that rule's pools that are still
//! candidates, in the rule's order; if none is, the request is rejected
//! naming the rule and its pools. A pod no rule matches is left alone.

// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

use berth_policy_sdk::selector::LabelSelector;
use berth_policy_sdk::{Decision, Policy, Request};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Shown in rejections; defaults to `rules[<index>]`.
    #[serde(default)]
    pub name: Option<String>,
    pub selector: LabelSelector,
    pub pools: Vec<String>,
}

pub struct LabelPool;

impl Policy for LabelPool {
    type Settings = Settings;
    const NAME: &'static str = "label-pool";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn validate(s: &Settings) -> Result<(), String> {
        if s.rules.is_empty() {
            return Err("rules: at least one rule is needed".into());
        }
        for (i, rule) in s.rules.iter().enumerate() {
            rule.selector
                .validate()
                .map_err(|e| format!("rules[{i}].selector: {e}"))?;
            if rule.pools.is_empty() {
                return Err(format!("rules[{i}].pools: must not be empty"));
            }
            for (j, pool) in rule.pools.iter().enumerate() {
                if pool.trim().is_empty() {
                    return Err(format!("rules[{i}].pools[{j}]: must not be empty"));
                }
                if rule.pools[..j].contains(pool) {
                    return Err(format!("rules[{i}].pools: {pool} is listed twice"));
                }
            }
        }
        Ok(())
    }

    fn evaluate(s: &Settings, request: &Request) -> Decision {
        let Some((i, rule)) = s
            .rules
            .iter()
            .enumerate()
            .find(|(_, r)| r.selector.matches(&request.labels))
        else {
            return Decision::Abstain;
        };
        let current: Vec<String> = rule
            .pools
            .iter()
            .filter(|name| request.pools.iter().any(|p| p.name == **name))
            .cloned()
            .collect();
        if !current.is_empty() {
            return Decision::RestrictPools(current);
        }
        let label = rule.name.clone().unwrap_or_else(|| format!("rules[{i}]"));
        let candidates: Vec<&str> = request.pools.iter().map(|p| p.name.as_str()).collect();
        Decision::Reject(format!(
            "label-pool rule {label} matches {}/{} but none of its pools ({}) is a candidate (candidates: {})",
            request.namespace,
            request.pod_name,
            rule.pools.join(", "),
            if candidates.is_empty() { "none".to_owned() } else { candidates.join(", ") }
        ))
    }
}

berth_policy_sdk::export_policy!(LabelPool);

#[cfg(test)]
mod tests;
