//! The process-wide part of the runtime: one wasmtime `Engine` (component
//! model, pooling allocator, epoch interruption), one `Linker` with the
//! host interfaces (WASI whose waiting calls return at once, see
//! `no_wait.rs`), the epoch ticker and the metrics.
//!
//! `Runtime` is a cheap handle; every loaded chain keeps one, so the
//! ticker (which is what stops runaway guests) lives as long as anything
//! that can run a guest.

use crate::artefact::ArtefactCache;
use crate::error::RuntimeError;
use crate::limits::RuntimeLimits;
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::sandbox::PolicyState;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Runs policies. Clone it freely: clones share the engine and metrics.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub engine: Engine,
    pub linker: Linker<PolicyState>,
    pub limits: RuntimeLimits,
    pub metrics: Metrics,
    /// Compiled components by sha256, so reloading a chain only compiles
    /// the modules that changed (a compile costs tens of milliseconds).
    pub compiled: Mutex<HashMap<String, Component>>,
    /// Compiled components on disk (`artefact.rs`), when configured.
    pub artefacts: Option<ArtefactCache>,
    _ticker: Ticker,
}

impl Runtime {
    /// A runtime that compiles every module it has not compiled itself.
    pub fn new(limits: RuntimeLimits) -> Result<Self, RuntimeError> {
        Self::build(limits, None)
    }

    /// A runtime that keeps compiled modules in `dir` (created mode 0700
    /// when first written), so a later runtime, in this process or the
    /// next, loads them without compiling (`artefact.rs`).
    pub fn with_artefact_cache(
        limits: RuntimeLimits,
        dir: impl Into<PathBuf>,
    ) -> Result<Self, RuntimeError> {
        Self::build(limits, Some(ArtefactCache::new(dir.into())))
    }

    fn build(
        limits: RuntimeLimits,
        artefacts: Option<ArtefactCache>,
    ) -> Result<Self, RuntimeError> {
        limits.check().map_err(RuntimeError::Limits)?;
        let engine = Engine::new(&engine_config(&limits))
            .map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        let mut linker = Linker::new(&engine);
        // All of WASI p2 is linked (that is how wasmtime-wasi ships it);
        // `imports.rs` refuses every component that imports more than the
        // allow-list, so filesystem and sockets stay unreachable.
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| RuntimeError::Engine(format!("linking WASI: {e:#}")))?;
        // ...with its timers and `poll` replaced by ones that never wait:
        // a guest blocked in the host is past the reach of its CPU budget.
        crate::no_wait::add_to_linker(&mut linker)
            .map_err(|e| RuntimeError::Engine(format!("linking WASI timers: {e:#}")))?;
        crate::log::add_to_linker(&mut linker)
            .map_err(|e| RuntimeError::Engine(format!("linking berth:policy/host: {e:#}")))?;
        crate::query::add_to_linker(&mut linker)
            .map_err(|e| RuntimeError::Engine(format!("linking berth:policy/query: {e:#}")))?;
        let ticker =
            Ticker::start(engine.clone(), limits.epoch_tick).map_err(RuntimeError::Ticker)?;
        Ok(Self {
            inner: Arc::new(Inner {
                engine,
                linker,
                limits,
                metrics: Metrics::default(),
                compiled: Mutex::new(HashMap::new()),
                artefacts,
                _ticker: ticker,
            }),
        })
    }

    /// Where compiled modules are kept, if anywhere.
    pub fn artefact_dir(&self) -> Option<&Path> {
        self.inner.artefacts.as_ref().map(ArtefactCache::dir)
    }

    pub fn limits(&self) -> &RuntimeLimits {
        &self.inner.limits
    }

    /// Counters and latency of every chain this runtime ran.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner.metrics.snapshot()
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

fn engine_config(limits: &RuntimeLimits) -> Config {
    let n = limits.pool_instances;
    // Per-component caps of the pool: a policy needing more is refused
    // when it compiles. Each store is then limited to its own policy's
    // needs (`needs.rs`).
    let core_instances = limits.core_instances_per_policy_max;
    let memories = limits.memories_per_policy_max;
    let tables = limits.tables_per_policy_max;
    let mut pool = PoolingAllocationConfig::new();
    // Pooling makes instantiation ~2x cheaper (slots are reused, memory is
    // reset copy-on-write); the bounds double as a cap on total guest memory.
    pool.total_component_instances(n)
        .total_core_instances(n.saturating_mul(core_instances))
        .max_core_instances_per_component(core_instances)
        .total_memories(n.saturating_mul(memories))
        .max_memories_per_component(memories)
        .total_tables(n.saturating_mul(tables))
        .max_tables_per_component(tables)
        .table_elements(limits.table_elements)
        // The store limiter enforces the cap (and records refusals); the
        // slot size only has to admit it.
        .max_memory_size(limits.memory_bytes_max)
        // Resetting a slot by madvise costs the next instance a page fault
        // per touched page, and the madvise itself sits in the drop; keeping
        // the low pages resident and re-zeroing only the dirty ones (found
        // with PAGEMAP_SCAN where the kernel has it) avoids both.
        .linear_memory_keep_resident(limits.memory_keep_resident_bytes)
        .table_keep_resident(limits.memory_keep_resident_bytes)
        .pagemap_scan(Enabled::Auto);
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .consume_fuel(limits.fuel_per_call.is_some())
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

/// Advances the engine's epoch every tick until dropped.
struct Ticker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    fn start(engine: Engine, tick: Duration) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("berth-epoch".into())
            .spawn(move || loop {
                // Dropping the sender wakes the thread at once, so a
                // Runtime drops without waiting for a tick.
                match stopped.recv_timeout(tick) {
                    Err(RecvTimeoutError::Timeout) => engine.increment_epoch(),
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                }
            })?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // The thread only ever returns; a panic there is not ours to
            // propagate from a destructor.
            let _ = thread.join();
        }
    }
}
