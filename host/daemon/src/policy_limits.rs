//! The caps policies run under, as `limits` in berthd.json states them:
//!
//! ```json
//! "limits": { "policyMemoryGrowthBytes": 16777216, "policyMemoryBytesMax": 134217728,
//!             "policyCoreInstancesMax": 64, "policyMemoriesMax": 2, "policyTablesMax": 16 }
//! ```
//!
//! Each policy's instances get what its component declares plus the growth
//! budget, within these caps (`berth_policy_runtime`'s `needs.rs`); a
//! component needing more is refused at load, naming the key to raise.
//! The caps size the runtime's instance pool, so they are read at start: a
//! reload that changes them is refused (restart berthd instead).

use crate::config::DaemonLimits;
use berth_policy_runtime::RuntimeLimits;

/// The runtime's limits with the config's caps (the rest at defaults).
pub fn runtime_limits(limits: &DaemonLimits) -> RuntimeLimits {
    RuntimeLimits {
        memory_growth_bytes: limits.policy_memory_growth_bytes,
        memory_bytes_max: limits.policy_memory_bytes_max,
        core_instances_per_policy_max: limits.policy_core_instances_max,
        memories_per_policy_max: limits.policy_memories_max,
        tables_per_policy_max: limits.policy_tables_max,
        ..RuntimeLimits::default()
    }
}

/// Why a reload from `running` to `next` must be refused, if it must.
pub fn reload_change(running: &RuntimeLimits, next: &DaemonLimits) -> Option<String> {
    (running != &runtime_limits(next)).then(|| {
        "limits.policy* (the policy caps) changed; they size the policy runtime and apply at \
         start: restart berthd to change them"
            .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_runtimes_and_a_change_is_seen() {
        let defaults = DaemonLimits::default();
        assert_eq!(runtime_limits(&defaults), RuntimeLimits::default());
        assert_eq!(reload_change(&RuntimeLimits::default(), &defaults), None);
        let raised = DaemonLimits {
            policy_core_instances_max: 128,
            ..DaemonLimits::default()
        };
        assert!(reload_change(&RuntimeLimits::default(), &raised).is_some());
    }
}
