//! Counters and a latency histogram, lock-free on the hot path. The daemon
//! renders the snapshot as Prometheus text; this crate stays free of any
//! metrics library.
//!
//! Per-policy counters are keyed by policy name and outlive chain swaps, so
//! a reload never resets a counter (Prometheus treats resets as restarts).

use berth_core::chain::{ChainError, ChainOutcome, PolicyErrorKind};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Upper bounds (µs) of the chain latency buckets. Dense around the
/// 100 µs target, then wide enough to show deadline-bound runs.
pub const LATENCY_BUCKETS_MICROS: [u64; 16] = [
    10, 20, 30, 40, 50, 75, 100, 150, 250, 500, 1_000, 2_500, 10_000, 50_000, 100_000, 1_000_000,
];

/// Every error kind, in the order snapshots list them.
pub const ERROR_KINDS: [PolicyErrorKind; 5] = [
    PolicyErrorKind::Timeout,
    PolicyErrorKind::Trap,
    PolicyErrorKind::OutOfMemory,
    PolicyErrorKind::InvalidAnswer,
    PolicyErrorKind::Internal,
];

#[derive(Default)]
pub(crate) struct Metrics {
    runs: AtomicU64,
    rejected: AtomicU64,
    failed: AtomicU64,
    latency: Histogram,
    policies: Mutex<BTreeMap<String, Arc<PolicyCounters>>>,
}

impl Metrics {
    /// The counters of `policy`, created on first use.
    pub fn policy(&self, policy: &str) -> Arc<PolicyCounters> {
        // A poisoned lock only means another thread panicked mid-insert;
        // the map itself is still consistent.
        let mut map = self.policies.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(policy.to_owned()).or_default().clone()
    }

    pub fn record_run(&self, result: &Result<ChainOutcome, ChainError>, elapsed: Duration) {
        self.runs.fetch_add(1, Relaxed);
        match result {
            Ok(_) => {}
            Err(ChainError::Rejected { .. }) => {
                self.rejected.fetch_add(1, Relaxed);
            }
            Err(ChainError::Failed { .. }) => {
                self.failed.fetch_add(1, Relaxed);
            }
        }
        self.latency.observe(elapsed);
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        let map = self.policies.lock().unwrap_or_else(|p| p.into_inner());
        MetricsSnapshot {
            runs: self.runs.load(Relaxed),
            rejected: self.rejected.load(Relaxed),
            failed: self.failed.load(Relaxed),
            latency: self.latency.snapshot(),
            policies: map.iter().map(|(name, c)| c.snapshot(name)).collect(),
        }
    }
}

#[derive(Default)]
pub(crate) struct PolicyCounters {
    calls: AtomicU64,
    errors: [AtomicU64; ERROR_KINDS.len()],
    ignored: AtomicU64,
    log_dropped: AtomicU64,
    /// The rate limit of this policy's WARN lines about ignored errors.
    pub warnings: crate::ignored::IgnoredWarnings,
}

impl PolicyCounters {
    pub fn add_calls(&self, n: u64) {
        self.calls.fetch_add(n, Relaxed);
    }

    pub fn add_log_dropped(&self, n: u64) {
        self.log_dropped.fetch_add(n, Relaxed);
    }

    pub fn add_error(&self, kind: PolicyErrorKind, ignored: bool) {
        let index = ERROR_KINDS
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(ERROR_KINDS.len() - 1);
        self.errors[index].fetch_add(1, Relaxed);
        if ignored {
            self.ignored.fetch_add(1, Relaxed);
        }
    }

    fn snapshot(&self, name: &str) -> PolicyMetrics {
        PolicyMetrics {
            name: name.to_owned(),
            calls: self.calls.load(Relaxed),
            errors: ERROR_KINDS
                .iter()
                .zip(&self.errors)
                .map(|(kind, n)| (*kind, n.load(Relaxed)))
                .collect(),
            ignored_errors: self.ignored.load(Relaxed),
            log_messages_dropped: self.log_dropped.load(Relaxed),
        }
    }
}

#[derive(Default)]
struct Histogram {
    /// One per bucket of `LATENCY_BUCKETS_MICROS`, plus the overflow.
    buckets: [AtomicU64; LATENCY_BUCKETS_MICROS.len() + 1],
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let index = LATENCY_BUCKETS_MICROS.partition_point(|bound| *bound < micros);
        self.buckets[index].fetch_add(1, Relaxed);
        self.sum_micros.fetch_add(micros, Relaxed);
    }

    fn snapshot(&self) -> LatencySnapshot {
        let mut running = 0u64;
        let cumulative = self
            .buckets
            .iter()
            .map(|b| {
                running = running.saturating_add(b.load(Relaxed));
                running
            })
            .collect::<Vec<_>>();
        LatencySnapshot {
            bounds_micros: LATENCY_BUCKETS_MICROS.to_vec(),
            count: running,
            cumulative: cumulative[..LATENCY_BUCKETS_MICROS.len()].to_vec(),
            sum_micros: self.sum_micros.load(Relaxed),
        }
    }
}

/// Everything the runtime counted since it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Chain runs (evaluations), whatever their outcome.
    pub runs: u64,
    /// Runs a policy rejected.
    pub rejected: u64,
    /// Runs that failed because a `Fail` policy erred.
    pub failed: u64,
    /// Latency of whole runs, instantiation included.
    pub latency: LatencySnapshot,
    /// Per policy, sorted by name.
    pub policies: Vec<PolicyMetrics>,
}

impl MetricsSnapshot {
    pub fn policy(&self, name: &str) -> Option<&PolicyMetrics> {
        self.policies.iter().find(|p| p.name == name)
    }
}

/// A Prometheus-style histogram: `cumulative[i]` runs took at most
/// `bounds_micros[i]`; `count` is the `+Inf` bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencySnapshot {
    pub bounds_micros: Vec<u64>,
    pub cumulative: Vec<u64>,
    pub count: u64,
    pub sum_micros: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyMetrics {
    pub name: String,
    /// Guest calls made (identify and evaluate).
    pub calls: u64,
    /// Errors by kind, every kind listed (zeros included).
    pub errors: Vec<(PolicyErrorKind, u64)>,
    /// Of those errors, the ones `failurePolicy: Ignore` absorbed.
    pub ignored_errors: u64,
    pub log_messages_dropped: u64,
}

impl PolicyMetrics {
    pub fn errors_of(&self, kind: PolicyErrorKind) -> u64 {
        self.errors
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, n)| *n)
    }
}
