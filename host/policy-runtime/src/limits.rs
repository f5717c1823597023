//! The knobs of the runtime, defaulting to the bounds in
//! `berth_core::limits` (the one place Berth's limits are written down).

use berth_core::limits as core;
use std::time::Duration;

/// Per-call and per-process resource bounds for Wasm policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeLimits {
    /// Period of the epoch ticker: how often a running call's budget is
    /// checked, so a call is stopped at most one tick past its limit.
    pub epoch_tick: Duration,
    /// CPU time each guest call (and each instantiation) may use.
    pub call_cpu_max: Duration,
    /// Wall-clock time each guest call may take, however little CPU it got.
    pub call_wall_max: Duration,
    /// Fuel per guest call; `None` leaves fuel metering off, since the
    /// epoch deadline already stops runaway guests and fuel slows every
    /// call down. Turn it on for deterministic, load-independent cut-offs.
    pub fuel_per_call: Option<u64>,
    /// Bytes a policy's linear memory may grow to.
    pub memory_bytes: usize,
    /// Bytes of each linear memory and table kept resident between
    /// instances of a pool slot (reset in place instead of unmapped).
    pub memory_keep_resident_bytes: usize,
    /// Elements of one guest table.
    pub table_elements: usize,
    /// Component instances alive at once (pooling allocator slots).
    pub pool_instances: u32,
    /// Log messages per call kept; the rest are dropped and counted.
    pub log_messages_per_call: u32,
    /// Bytes of one kept log message.
    pub log_message_bytes: usize,
}

impl Default for RuntimeLimits {
    fn default() -> Self {
        Self {
            epoch_tick: Duration::from_millis(core::POLICY_EPOCH_TICK_MS),
            call_cpu_max: Duration::from_millis(core::POLICY_CALL_CPU_MS_MAX),
            call_wall_max: Duration::from_millis(core::POLICY_CALL_WALL_MS_MAX),
            fuel_per_call: None,
            memory_bytes: core::POLICY_MEMORY_BYTES_MAX,
            memory_keep_resident_bytes: core::POLICY_MEMORY_KEEP_RESIDENT_BYTES,
            table_elements: core::POLICY_TABLE_ELEMENTS_MAX,
            pool_instances: core::POLICY_POOL_INSTANCES_MAX,
            log_messages_per_call: core::POLICY_LOG_MESSAGES_PER_CALL_MAX,
            log_message_bytes: core::POLICY_LOG_MESSAGE_BYTES_MAX,
        }
    }
}

impl RuntimeLimits {
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.epoch_tick.is_zero() {
            return Err("epoch_tick must be positive".into());
        }
        if self.call_cpu_max.is_zero() {
            return Err("call_cpu_max must be positive".into());
        }
        if self.call_wall_max < self.call_cpu_max {
            return Err("call_wall_max must be at least call_cpu_max".into());
        }
        if self.fuel_per_call == Some(0) {
            return Err("fuel_per_call must be positive when set".into());
        }
        // A Rust guest starts with ~1.1 MiB of linear memory.
        if self.memory_bytes < (2 << 20) {
            return Err("memory_bytes must be at least 2 MiB".into());
        }
        if self.pool_instances == 0 {
            return Err("pool_instances must be at least 1".into());
        }
        Ok(())
    }
}
