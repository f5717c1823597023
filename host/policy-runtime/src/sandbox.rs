//! What a guest's store holds: a WASI context that grants nothing, a
//! memory limiter that remembers refusals, and the bounded log budget.
//!
//! Rust std on `wasm32-wasip2` imports `wasi:cli`/`wasi:io` even for pure
//! code, componentize-py adds `wasi:filesystem` and `wasi:sockets`, so
//! those interfaces are linked, but backed by nothing (deny by default):
//! no preopened directory (no path can be opened), no environment or
//! arguments, no socket (TCP, UDP and name lookups are refused and no
//! address passes the check); stdin closed, stdout discarded, stderr kept
//! as a bounded tail that failed calls quote (`stderr.rs`); the
//! wall clock fixed to the request's time and the monotonic clock frozen;
//! randomness seeded from the request's seed. The same request therefore
//! always sees the same world, and nothing in it ever makes the host wait
//! (the timers are `no_wait.rs`'s).

use crate::budget::CallBudget;
use crate::log_budget::LogBudget;
use crate::needs::PolicyNeeds;
use crate::stderr::StderrTail;
use rand_core::TryRng;
use std::convert::Infallible;
use std::time::Duration;
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::clocks::{HostMonotonicClock, HostWallClock};
use wasmtime_wasi::p2::pipe::{ClosedInputStream, SinkOutputStream};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The data of one policy instance's `Store`.
pub(crate) struct PolicyState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub limiter: Limiter,
    pub log: LogBudget,
    pub budget: CallBudget,
    /// What the guest wrote to stderr during the current call.
    pub stderr: StderrTail,
}

impl PolicyState {
    pub fn new(
        limiter: Limiter,
        log: LogBudget,
        budget: CallBudget,
        seed: u64,
        now_unix_secs: u64,
    ) -> Self {
        let mut wasi = WasiCtx::builder();
        let stderr = StderrTail::default();
        // Spelled out because `no_wait.rs` relies on them: a closed stdin,
        // a sink stdout and the stderr tail are always ready, so a guest's
        // blocking reads and writes return at once.
        wasi.stdin(ClosedInputStream)
            .stdout(SinkOutputStream)
            .stderr(stderr.clone())
            .wall_clock(FixedWallClock(Duration::from_secs(now_unix_secs)))
            .monotonic_clock(FixedMonotonicClock)
            .secure_random(SplitMix64(seed))
            .insecure_random(SplitMix64(seed ^ 0x9e37_79b9_7f4a_7c15))
            .insecure_random_seed(u128::from(seed))
            // A guest has no business asking the host for megabytes of
            // randomness.
            .max_random_size(4096)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        Self {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter,
            log,
            budget,
            stderr,
        }
    }
}

impl WasiView for PolicyState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// `StoreLimits` plus a flag set when a memory growth was refused, so a
/// guest that aborts on allocation failure is reported as out of memory.
pub(crate) struct Limiter {
    inner: StoreLimits,
    pub memory_refused: bool,
}

impl Limiter {
    pub fn new(needs: PolicyNeeds, table_elements: usize) -> Self {
        // One component per store, sized for that policy (`needs.rs`).
        let count = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
        let inner = StoreLimitsBuilder::new()
            .memory_size(needs.memory_bytes)
            .table_elements(table_elements)
            .instances(count(needs.core_instances))
            .memories(count(needs.memories))
            .tables(count(needs.tables))
            .build();
        Self {
            inner,
            memory_refused: false,
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.inner.memory_growing(current, desired, maximum)?;
        if !allowed {
            self.memory_refused = true;
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        // The pooling allocator refused (slot size): the same situation.
        self.memory_refused = true;
        self.inner.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

/// Wall clock frozen at the request's time (the contract already passes
/// `now-unix-secs`; this keeps std's `SystemTime` consistent with it).
struct FixedWallClock(Duration);

impl HostWallClock for FixedWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        self.0
    }
}

/// Monotonic clock that never moves: a guest cannot time anything (no
/// timing side channels, and its answer cannot depend on how busy the node
/// is). Its timers fire at once (`no_wait.rs`), so a guest that waits for
/// this clock to pass a mark loops until its CPU budget runs out.
struct FixedMonotonicClock;

impl HostMonotonicClock for FixedMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// SplitMix64: tiny, deterministic, and plenty for a guest that should not
/// depend on randomness at all (HashMap seeds in std are the usual caller).
struct SplitMix64(u64);

impl TryRng for SplitMix64 {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        // The high half of a SplitMix64 output is the better-mixed one.
        Ok((self.try_next_u64()? >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Ok(z ^ (z >> 31))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}
