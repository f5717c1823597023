//! What one policy's instances may use, sized from its component within
//! the runtime's caps (`RuntimeLimits`).
//!
//! A Rust policy declares ~1 MiB of linear memory, a componentize-py one
//! ~12 MiB: one flat memory cap would either refuse Python or give every
//! Rust policy room for a 100 MiB bomb. So each policy may use what it
//! declares plus the same growth budget, never more than the cap. Core
//! instances, memories and tables are capped per policy by the pooling
//! allocator (wasmtime counts them exactly when it compiles); the scan's
//! lower bound refuses a hopeless module before that compile.

use crate::error::LoadError;
use crate::limits::RuntimeLimits;
use crate::scan::Scan;

/// The limits of one policy's stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PolicyNeeds {
    /// Bytes each linear memory may grow to.
    pub memory_bytes: usize,
    pub core_instances: u32,
    pub memories: u32,
    pub tables: u32,
}

impl PolicyNeeds {
    /// The store limits of a component scanned as `scan`, or why it can
    /// never run under `limits`.
    pub fn of(policy: &str, scan: &Scan, limits: &RuntimeLimits) -> Result<Self, LoadError> {
        let refuse = |what: &'static str, need: u64, cap: u64, setting: &'static str| {
            Err(LoadError::BeyondLimits {
                policy: policy.to_owned(),
                what,
                need,
                cap,
                setting,
            })
        };
        let cap = limits.memory_bytes_max as u64;
        if scan.initial_memory_bytes > cap {
            return refuse(
                "bytes of initial linear memory",
                scan.initial_memory_bytes,
                cap,
                "limits.policyMemoryBytesMax",
            );
        }
        if scan.core_instances > limits.core_instances_per_policy_max {
            return refuse(
                "core module instances (at least)",
                u64::from(scan.core_instances),
                u64::from(limits.core_instances_per_policy_max),
                "limits.policyCoreInstancesMax",
            );
        }
        if scan.memories > limits.memories_per_policy_max {
            return refuse(
                "linear memories",
                u64::from(scan.memories),
                u64::from(limits.memories_per_policy_max),
                "limits.policyMemoriesMax",
            );
        }
        let declared = usize::try_from(scan.initial_memory_bytes).unwrap_or(usize::MAX);
        let memory_bytes = declared
            .saturating_add(limits.memory_growth_bytes)
            .min(limits.memory_bytes_max);
        Ok(Self {
            memory_bytes,
            core_instances: limits.core_instances_per_policy_max,
            memories: limits.memories_per_policy_max,
            tables: limits.tables_per_policy_max,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(initial_mib: u64, core_instances: u32, memories: u32) -> Scan {
        Scan {
            imports: Vec::new(),
            core_instances,
            memories,
            initial_memory_bytes: initial_mib << 20,
            malformed: None,
        }
    }

    #[test]
    fn memory_follows_the_declared_size_within_the_cap() {
        let limits = RuntimeLimits::default();
        let growth = limits.memory_growth_bytes;
        let rust = PolicyNeeds::of("p", &scan(1, 3, 1), &limits).expect("fits");
        assert_eq!(rust.memory_bytes, (1 << 20) + growth);
        let python = PolicyNeeds::of("p", &scan(12, 14, 1), &limits).expect("fits");
        assert_eq!(python.memory_bytes, (12 << 20) + growth);
        let near = limits.memory_bytes_max as u64 >> 20;
        let big = PolicyNeeds::of("p", &scan(near, 1, 1), &limits).expect("fits");
        assert_eq!(
            big.memory_bytes, limits.memory_bytes_max,
            "never past the cap"
        );
    }

    #[test]
    fn beyond_a_cap_is_refused_naming_the_setting() {
        let limits = RuntimeLimits::default();
        let too_big = (limits.memory_bytes_max as u64 >> 20) + 1;
        for (scan, setting) in [
            (scan(too_big, 1, 1), "limits.policyMemoryBytesMax"),
            (scan(1, 65, 1), "limits.policyCoreInstancesMax"),
            (scan(1, 1, 3), "limits.policyMemoriesMax"),
        ] {
            match PolicyNeeds::of("p", &scan, &limits) {
                Err(LoadError::BeyondLimits { setting: s, .. }) => assert_eq!(s, setting),
                other => panic!("expected {setting} to refuse, got {other:?}"),
            }
        }
    }
}
