//! The runtime's bounds, the one place they are written down: how much a
//! Wasm policy may use, and the knobs of [`RuntimeLimits`] defaulting to
//! them (the daemon's config may lower or raise some within these). Units
//! are last in names.

use std::time::Duration;

/// Period of the epoch ticker that wakes the budget check of running
/// guests. 10 ms costs one thread wake-up per tick (negligible) while keeping
/// the check's granularity small next to CNI timeouts.
pub const POLICY_EPOCH_TICK_MS: u64 = 10;
/// CPU time one guest call (or instantiation) may use: ~5,000x a normal
/// call (~10 us), so no honest policy comes near it, yet a runaway policy
/// costs an ADD at most that much CPU. CPU time, not wall time, so a busy
/// node that deschedules the daemon never fails an honest policy.
pub const POLICY_CALL_CPU_MS_MAX: u64 = 50;
/// Wall-clock cap on one guest call, behind the CPU budget: bounds how long
/// a call can hold the allocator when the node starves the daemon of CPU.
pub const POLICY_CALL_WALL_MS_MAX: u64 = 2_000;
/// Bytes of linear memory a policy may use beyond what its component
/// declares at start (a Rust guest declares ~1 MiB, componentize-js ~9 MiB,
/// componentize-py ~12 MiB): the room an evaluation gets to allocate.
pub const POLICY_MEMORY_GROWTH_BYTES: usize = 16 << 20;
/// Bytes of linear memory no policy may exceed, declared plus growth (the
/// pooling allocator's slot size): a component declaring more is refused.
pub const POLICY_MEMORY_BYTES_MAX: usize = 128 << 20;
/// Core module instances one policy component may create. A Rust policy
/// makes 3; componentize-py 38 (its interpreter is 14 modules linked
/// through adapters); componentize-js 4.
pub const POLICY_CORE_INSTANCES_MAX: u32 = 64;
/// Linear memories one policy component may define (every toolchain above
/// defines one and shares it).
pub const POLICY_MEMORIES_MAX: u32 = 2;
/// Tables one policy component may define (one per core module at most).
pub const POLICY_TABLES_MAX: u32 = 16;
/// Bytes of a policy's memory (and table) kept resident between the
/// instances reusing a pool slot. A Rust guest touches well under 1 MiB per
/// evaluation; with slots reused per policy, this costs at most this much
/// RSS per loaded policy and saves a page fault per touched page per run.
pub const POLICY_MEMORY_KEEP_RESIDENT_BYTES: usize = 1 << 20;
/// Elements of one guest table (Rust guests use a few hundred).
pub const POLICY_TABLE_ELEMENTS_MAX: usize = 20_000;
/// Component instances alive at once across all evaluations (each run
/// holds one per policy of its chain until it ends).
pub const POLICY_POOL_INSTANCES_MAX: u32 = 128;
/// WARN lines about errors of one `failurePolicy: Ignore` policy per
/// window; the rest are counted and the count is logged with the next line.
pub const POLICY_IGNORED_WARNINGS_PER_WINDOW: u32 = 5;
/// The window of `POLICY_IGNORED_WARNINGS_PER_WINDOW`.
pub const POLICY_IGNORED_WARNING_WINDOW_SECS: u64 = 60;
/// Log messages a policy may emit per call; the rest are dropped and counted.
pub const POLICY_LOG_MESSAGES_PER_CALL_MAX: u32 = 32;
/// Bytes of one log message kept; longer ones are truncated.
pub const POLICY_LOG_MESSAGE_BYTES_MAX: usize = 1024;
/// Bytes of a policy module file (a Rust policy is ~50-200 KB).
pub const POLICY_MODULE_BYTES_MAX: usize = 32 << 20;
/// Bytes of one policy's settings as JSON.
pub const POLICY_SETTINGS_BYTES_MAX: usize = 64 << 10;
/// Bytes of any string a guest returns (identity keys and decision strings
/// have tighter bounds above, checked by the chain).
pub const POLICY_ANSWER_STRING_BYTES_MAX: usize = 4096;
/// Bytes of a policy name (it is a metrics label and a log field).
pub const POLICY_NAME_BYTES_MAX: usize = 63;
/// Compiled components kept for reloads: two full chains' worth.
pub const COMPILED_CACHE_ENTRIES_MAX: usize = 2 * berth_core::limits::CHAIN_POLICIES_MAX;
/// Bytes of a guest's stderr kept per call (the end, where an exception's
/// message is), quoted in a trap's error.
pub const STDERR_TAIL_BYTES: usize = 2048;

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
            epoch_tick: Duration::from_millis(POLICY_EPOCH_TICK_MS),
            call_cpu_max: Duration::from_millis(POLICY_CALL_CPU_MS_MAX),
            call_wall_max: Duration::from_millis(POLICY_CALL_WALL_MS_MAX),
            fuel_per_call: None,
            memory_growth_bytes: POLICY_MEMORY_GROWTH_BYTES,
            memory_bytes_max: POLICY_MEMORY_BYTES_MAX,
            core_instances_per_policy_max: POLICY_CORE_INSTANCES_MAX,
            memories_per_policy_max: POLICY_MEMORIES_MAX,
            tables_per_policy_max: POLICY_TABLES_MAX,
            memory_keep_resident_bytes: POLICY_MEMORY_KEEP_RESIDENT_BYTES,
            table_elements: POLICY_TABLE_ELEMENTS_MAX,
            pool_instances: POLICY_POOL_INSTANCES_MAX,
            ignored_warnings_per_window: POLICY_IGNORED_WARNINGS_PER_WINDOW,
            ignored_warning_window: Duration::from_secs(POLICY_IGNORED_WARNING_WINDOW_SECS),
            log_messages_per_call: POLICY_LOG_MESSAGES_PER_CALL_MAX,
            log_message_bytes: POLICY_LOG_MESSAGE_BYTES_MAX,
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
