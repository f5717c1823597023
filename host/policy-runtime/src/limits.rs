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
    /// Bytes of linear memory a policy may use beyond what its component
    /// declares at start. A policy's own cap is its declared memory plus
    /// this, within `memory_bytes_max`.
    pub memory_growth_bytes: usize,
    /// Bytes of linear memory no policy may exceed (declared plus growth):
    /// the pooling allocator's slot size.
    pub memory_bytes_max: usize,
    /// Core module instances one policy component may create (a Rust
    /// policy makes 3, componentize-py 38).
    pub core_instances_per_policy_max: u32,
    /// Linear memories one policy component may define.
    pub memories_per_policy_max: u32,
    /// Tables one policy component may define.
    pub tables_per_policy_max: u32,
    /// Bytes of each linear memory and table kept resident between
    /// instances of a pool slot (reset in place instead of unmapped).
    pub memory_keep_resident_bytes: usize,
    /// Elements of one guest table.
    pub table_elements: usize,
    /// Component instances alive at once (pooling allocator slots).
    pub pool_instances: u32,
    /// WARN lines per window about one `failurePolicy: Ignore` policy's
    /// errors; the rest are counted into the next line.
    pub ignored_warnings_per_window: u32,
    /// The window of `ignored_warnings_per_window`.
    pub ignored_warning_window: Duration,
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
            memory_growth_bytes: core::POLICY_MEMORY_GROWTH_BYTES,
            memory_bytes_max: core::POLICY_MEMORY_BYTES_MAX,
            core_instances_per_policy_max: core::POLICY_CORE_INSTANCES_MAX,
            memories_per_policy_max: core::POLICY_MEMORIES_MAX,
            tables_per_policy_max: core::POLICY_TABLES_MAX,
            memory_keep_resident_bytes: core::POLICY_MEMORY_KEEP_RESIDENT_BYTES,
            table_elements: core::POLICY_TABLE_ELEMENTS_MAX,
            pool_instances: core::POLICY_POOL_INSTANCES_MAX,
            ignored_warnings_per_window: core::POLICY_IGNORED_WARNINGS_PER_WINDOW,
            ignored_warning_window: Duration::from_secs(core::POLICY_IGNORED_WARNING_WINDOW_SECS),
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
        if self.memory_growth_bytes < (1 << 20) {
            return Err("memory_growth_bytes must be at least 1 MiB".into());
        }
        if self.memory_bytes_max < self.memory_growth_bytes.saturating_add(1 << 20) {
            return Err("memory_bytes_max must be at least memory_growth_bytes + 1 MiB".into());
        }
        if self.core_instances_per_policy_max == 0
            || self.memories_per_policy_max == 0
            || self.tables_per_policy_max == 0
        {
            return Err(
                "core_instances_per_policy_max, memories_per_policy_max and \
                 tables_per_policy_max must be at least 1"
                    .into(),
            );
        }
        if self.pool_instances == 0 {
            return Err("pool_instances must be at least 1".into());
        }
        Ok(())
    }
}
