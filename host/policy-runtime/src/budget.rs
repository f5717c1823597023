//! How long one guest call may run: a CPU-time budget, with a wall-clock
//! cap behind it.
//!
//! A pure wall-clock deadline punishes a policy for the host being busy: on
//! a node where hundreds of CNI plugins start at once, the thread running a
//! 10 µs evaluation can sit descheduled for tens of milliseconds and then
//! trip a 50 ms deadline it never used. So the epoch ticker only *wakes*
//! the check; the check charges the call with the CPU time its thread
//! actually spent. The wall-clock cap stays as the backstop that bounds how
//! long a call can hold the allocator on a starved node.
//!
//! The thread's CPU clock is a system call (the vDSO does not serve it), so
//! it is read only once a call outlives its first tick, never on the path
//! of an ordinary ~50 µs call. A call is therefore charged from its first
//! tick on: it may use up to one tick more than the budget, the same
//! granularity the epoch check has anyway.
//!
//! This is the only module of the runtime allowed `unsafe` (one libc call).
#![allow(unsafe_code)]

use std::time::{Duration, Instant};
use wasmtime::UpdateDeadline;

/// Which limit stopped a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exhausted {
    Cpu(Duration),
    Wall(Duration),
}

impl std::fmt::Display for Exhausted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Cpu(limit) => write!(f, "used its {} ms of CPU time", limit.as_millis()),
            Self::Wall(limit) => write!(
                f,
                "ran past its {} ms wall-clock cap (the node may be overloaded)",
                limit.as_millis()
            ),
        }
    }
}

/// The budget of the call currently running in one store.
#[derive(Debug)]
pub(crate) struct CallBudget {
    cpu_limit: Duration,
    wall_limit: Duration,
    /// The thread's CPU clock at the call's first tick; `None` before it.
    cpu_start: Option<Duration>,
    wall_start: Instant,
    /// Set when a check interrupted the call.
    pub exhausted: Option<Exhausted>,
}

impl CallBudget {
    pub fn new(cpu_limit: Duration, wall_limit: Duration) -> Self {
        debug_assert!(!cpu_limit.is_zero() && cpu_limit <= wall_limit);
        Self {
            cpu_limit,
            wall_limit,
            cpu_start: None,
            wall_start: Instant::now(),
            exhausted: None,
        }
    }

    /// Starts a new call's budget. Calls run on the thread that arms them
    /// (the runtime is synchronous), so the thread's CPU clock is the call's.
    pub fn start(&mut self) {
        self.cpu_start = None;
        self.wall_start = Instant::now();
        self.exhausted = None;
    }

    /// Called at each epoch tick while the call runs: one more tick if the
    /// call is within both limits, otherwise interrupt it.
    pub fn on_tick(&mut self) -> UpdateDeadline {
        let cpu_now = thread_cpu_time();
        let cpu_start = *self.cpu_start.get_or_insert(cpu_now);
        let verdict = self.check(cpu_now.saturating_sub(cpu_start), Instant::now());
        match verdict {
            None => UpdateDeadline::Continue(1),
            Some(exhausted) => {
                self.exhausted = Some(exhausted);
                UpdateDeadline::Interrupt
            }
        }
    }

    fn check(&self, cpu_used: Duration, wall_now: Instant) -> Option<Exhausted> {
        let wall_used = wall_now.saturating_duration_since(self.wall_start);
        if cpu_used >= self.cpu_limit {
            Some(Exhausted::Cpu(self.cpu_limit))
        } else if wall_used >= self.wall_limit {
            Some(Exhausted::Wall(self.wall_limit))
        } else {
            None
        }
    }
}

/// CPU time the calling thread has used so far.
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID
    // exists on every Linux Berth supports.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    let secs = u64::try_from(now.tv_sec).unwrap_or(0);
    let nanos = u32::try_from(now.tv_nsec).unwrap_or(0);
    Duration::new(secs, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget() -> CallBudget {
        CallBudget::new(Duration::from_millis(50), Duration::from_millis(1000))
    }

    #[test]
    fn a_descheduled_call_is_not_charged_for_waiting() {
        let b = budget();
        // 900 ms of wall time but only 5 ms on the CPU: keep going.
        let wall = b.wall_start + Duration::from_millis(900);
        assert_eq!(b.check(Duration::from_millis(5), wall), None);
    }

    #[test]
    fn the_first_tick_only_takes_the_cpu_baseline() {
        let mut b = budget();
        b.start();
        assert!(matches!(b.on_tick(), UpdateDeadline::Continue(1)));
        assert!(b.cpu_start.is_some() && b.exhausted.is_none());
        b.start();
        assert!(b.cpu_start.is_none(), "each call takes its own baseline");
    }

    #[test]
    fn cpu_use_past_the_budget_interrupts() {
        let b = budget();
        let wall = b.wall_start + Duration::from_millis(51);
        assert_eq!(
            b.check(Duration::from_millis(50), wall),
            Some(Exhausted::Cpu(Duration::from_millis(50)))
        );
    }

    #[test]
    fn the_wall_clock_cap_still_holds_on_a_starved_node() {
        let b = budget();
        let wall = b.wall_start + Duration::from_millis(1000);
        assert_eq!(
            b.check(Duration::from_millis(1), wall),
            Some(Exhausted::Wall(Duration::from_millis(1000)))
        );
    }

    #[test]
    fn the_thread_clock_advances_with_work_and_not_with_sleep() {
        let before = thread_cpu_time();
        std::thread::sleep(Duration::from_millis(30));
        let slept = thread_cpu_time().saturating_sub(before);
        assert!(slept < Duration::from_millis(30), "sleep charged {slept:?}");
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(20) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(thread_cpu_time() > before, "spinning charged nothing");
    }
}
