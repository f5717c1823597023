//! Where the time of a CNI ADD goes inside berthd, phase by phase, summed
//! over every ADD and exported as `berth_add_phase_us_total{phase}` with
//! `berth_add_phase_adds_total`.
//!
//! The CNI bench reads these sums to print its per-phase breakdown; an
//! operator reads them to tell a slow disk (commit) from a slow policy
//! (chain) from a starved node (dispatch). Counting costs two clock reads
//! per phase, nothing beside a ~1 ms ADD.

use berth_core::chain::{ChainError, ChainHost, ChainOutcome, PolicyChain};
use berth_policy_sdk::Request;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::MetricType;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// The phases of one ADD inside the daemon, in the order they happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Accept to request decoded: peer check, read and JSON decode.
    Read,
    /// Decoded to running on a blocking thread: slot and thread hand-off.
    Dispatch,
    /// Validation, the workload lookup and the wait for the allocator lock.
    Lock,
    /// Planning without the chain: candidate pools, sample, checks.
    Plan,
    /// The policy chain run (instances included).
    Chain,
    /// The durable store write and the in-memory apply.
    Commit,
    /// Building the answer, logging, counting.
    Reply,
    /// Back from the blocking thread to the socket's task.
    Return,
    /// Encoding and writing the answer frame.
    Write,
}

impl Phase {
    pub const ALL: [Phase; 9] = [
        Phase::Read,
        Phase::Dispatch,
        Phase::Lock,
        Phase::Plan,
        Phase::Chain,
        Phase::Commit,
        Phase::Reply,
        Phase::Return,
        Phase::Write,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Read => "read",
            Phase::Dispatch => "dispatch",
            Phase::Lock => "lock",
            Phase::Plan => "plan",
            Phase::Chain => "chain",
            Phase::Commit => "commit",
            Phase::Reply => "reply",
            Phase::Return => "return",
            Phase::Write => "write",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The clock of one request: each `mark` charges the time since the
/// previous mark to a phase.
#[derive(Debug, Clone)]
pub struct PhaseClock {
    last: Instant,
    spent: [Duration; Phase::ALL.len()],
}

impl PhaseClock {
    pub fn start(at: Instant) -> Self {
        Self {
            last: at,
            spent: [Duration::ZERO; Phase::ALL.len()],
        }
    }

    /// Charges the time since the last mark to `phase`.
    pub fn mark(&mut self, phase: Phase) {
        let now = Instant::now();
        self.spent[phase.index()] += now.saturating_duration_since(self.last);
        self.last = now;
    }

    /// Moves `part` of what `from` was charged to `to` (the chain runs
    /// inside planning).
    pub fn carve(&mut self, from: Phase, to: Phase, part: Duration) {
        let part = part.min(self.spent[from.index()]);
        self.spent[from.index()] -= part;
        self.spent[to.index()] += part;
    }

    pub fn spent(&self, phase: Phase) -> Duration {
        self.spent[phase.index()]
    }
}

/// Sums over every ADD, for `/metrics`.
#[derive(Debug, Default)]
pub struct PhaseTotals {
    nanos: [AtomicU64; Phase::ALL.len()],
    count: AtomicU64,
}

impl PhaseTotals {
    pub fn record(&self, clock: &PhaseClock) {
        for phase in Phase::ALL {
            let nanos = u64::try_from(clock.spent(phase).as_nanos()).unwrap_or(u64::MAX);
            self.nanos[phase.index()].fetch_add(nanos, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
    }
}

/// `berth_add_phase_us_total{phase}`, microseconds summed over every ADD,
/// and `berth_add_phase_adds_total`, the ADDs they cover.
impl Collector for PhaseTotals {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut spent = encoder.encode_descriptor(
            "berth_add_phase_us",
            "Time CNI ADDs spent in each phase inside the daemon, in microseconds",
            None,
            MetricType::Counter,
        )?;
        for phase in Phase::ALL {
            let micros = self.nanos[phase.index()].load(Relaxed) as f64 / 1000.0;
            let labels = [("phase", phase.as_str())];
            ConstCounter::new(micros).encode(spent.encode_family(&labels)?)?;
        }
        let adds = encoder.encode_descriptor(
            "berth_add_phase_adds",
            "CNI ADDs whose phases are summed in berth_add_phase_us_total",
            None,
            MetricType::Counter,
        )?;
        ConstCounter::new(self.count.load(Relaxed)).encode(adds)
    }
}

/// A chain that remembers how long its runs took, so planning and the
/// chain can be told apart (the allocator runs the chain inside its plan).
pub struct TimedChain<'a> {
    inner: &'a dyn PolicyChain,
    nanos: AtomicU64,
}

impl<'a> TimedChain<'a> {
    pub fn new(inner: &'a dyn PolicyChain) -> Self {
        Self {
            inner,
            nanos: AtomicU64::new(0),
        }
    }

    pub fn spent(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Relaxed))
    }
}

impl PolicyChain for TimedChain<'_> {
    fn run(&self, request: Request, host: &dyn ChainHost) -> Result<ChainOutcome, ChainError> {
        let started = Instant::now();
        let outcome = self.inner.run(request, host);
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Relaxed);
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_charge_the_time_since_the_last_mark() {
        let start = Instant::now();
        let mut clock = PhaseClock::start(start);
        std::thread::sleep(Duration::from_millis(2));
        clock.mark(Phase::Plan);
        clock.mark(Phase::Commit);
        let plan = clock.spent(Phase::Plan);
        assert!(plan >= Duration::from_millis(2), "{plan:?}");
        clock.carve(Phase::Plan, Phase::Chain, Duration::from_millis(1));
        assert_eq!(clock.spent(Phase::Chain), Duration::from_millis(1));
        assert_eq!(clock.spent(Phase::Plan), plan - Duration::from_millis(1));
        // Never more than was charged.
        clock.carve(Phase::Commit, Phase::Chain, Duration::from_secs(1));
        assert_eq!(clock.spent(Phase::Commit), Duration::ZERO);
    }

    #[test]
    fn totals_render_one_sum_and_count_per_phase() {
        let totals = PhaseTotals::default();
        let mut clock = PhaseClock::start(Instant::now());
        clock.carve(Phase::Read, Phase::Write, Duration::ZERO);
        totals.record(&clock);
        totals.record(&clock);
        let mut registry = prometheus_client::registry::Registry::default();
        registry.register_collector(Box::new(totals));
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &registry).expect("text");
        for phase in Phase::ALL {
            let sum = format!("berth_add_phase_us_total{{phase=\"{}\"}} ", phase.as_str());
            assert!(out.contains(&sum), "{out}");
        }
        assert!(out.contains("berth_add_phase_adds_total 2\n"), "{out}");
    }
}
