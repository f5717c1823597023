//! Settings of sticky-statefulset.

use berth_policy_sdk::DurationSecs;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    /// Sticky StatefulSets on (the default) or off (they become stateless).
    #[serde(default = "yes")]
    pub stateful_sets: bool,
    /// How long a scaled-down ordinal's address is held so that scaling
    /// back up restores it. 0 (the default) frees it once retired.
    #[serde(default)]
    pub hold_after_scale_down: DurationSecs,
    /// Extra sticky identities for workloads that are not StatefulSets.
    #[serde(default)]
    pub stable_identities: Vec<StableRule>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            stateful_sets: true,
            hold_after_scale_down: DurationSecs(0),
            stable_identities: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

/// One rule of `stableIdentities`: exactly one of `ownerKind` and
/// `podNamePattern`, with an optional retention.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StableRule {
    /// Pods whose owner has this kind ("ReplicaSet", "Deployment", ...).
    #[serde(default)]
    pub owner_kind: Option<String>,
    /// Pods whose name matches this glob (`*` matches any run).
    #[serde(default)]
    pub pod_name_pattern: Option<String>,
    /// Absent: held until an operator releases it (or the owner goes).
    #[serde(default)]
    pub retain_secs: Option<DurationSecs>,
}

impl Settings {
    pub fn validate(&self) -> Result<(), String> {
        for (i, rule) in self.stable_identities.iter().enumerate() {
            match (&rule.owner_kind, &rule.pod_name_pattern) {
                (Some(kind), None) if !kind.trim().is_empty() => {}
                (None, Some(pattern)) if !pattern.trim().is_empty() => {}
                (Some(_), Some(_)) => {
                    return Err(format!(
                        "stableIdentities[{i}]: give either ownerKind or podNamePattern, not both"
                    ))
                }
                _ => {
                    return Err(format!(
                        "stableIdentities[{i}]: needs a non-empty ownerKind or podNamePattern"
                    ))
                }
            }
        }
        Ok(())
    }
}
