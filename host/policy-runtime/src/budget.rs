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
    cpu_start: Duration,
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
            cpu_start: thread_cpu_time(),
            wall_start: Instant::now(),
            exhausted: None,
        }
    }

    /// Starts a new call's budget. Calls run on the thread that arms them
    /// (the runtime is synchronous), so the thread's CPU clock is the call's.
    pub fn start(&mut self) {
        self.cpu_start = thread_cpu_time();
        self.wall_start = Instant::now();
        self.exhausted = None;
    }

    /// Called at each epoch tick while the call runs: one more tick if the
    /// call is within both limits, otherwise interrupt it.
    pub fn on_tick(&mut self) -> UpdateDeadline {
        let verdict = self.check(thread_cpu_time(), Instant::now());
        match verdict {
            None => UpdateDeadline::Continue(1),
            Some(exhausted) => {
                self.exhausted = Some(exhausted);
                UpdateDeadline::Interrupt
            }
        }
    }

    fn check(&self, cpu_now: Duration, wall_now: Instant) -> Option<Exhausted> {
        let cpu_used = cpu_now.saturating_sub(self.cpu_start);
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
        let cpu = b.cpu_start + Duration::from_millis(5);
        let wall = b.wall_start + Duration::from_millis(900);
        assert_eq!(b.check(cpu, wall), None);
    }

    #[test]
    fn cpu_use_past_the_budget_interrupts() {
        let b = budget();
        let cpu = b.cpu_start + Duration::from_millis(50);
        let wall = b.wall_start + Duration::from_millis(51);
        assert_eq!(
            b.check(cpu, wall),
            Some(Exhausted::Cpu(Duration::from_millis(50)))
        );
    }

    #[test]
    fn the_wall_clock_cap_still_holds_on_a_starved_node() {
        let b = budget();
        let cpu = b.cpu_start + Duration::from_millis(1);
        let wall = b.wall_start + Duration::from_millis(1000);
        assert_eq!(
            b.check(cpu, wall),
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
