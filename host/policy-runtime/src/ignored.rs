//! Errors a `failurePolicy: Ignore` policy caused are logged at WARN,
//! with the policy's name and the error, at most a few per window per
//! policy: a policy failing on every ADD must not flood the log, yet an
//! operator must see that (and why) it fails. Lines held back are counted,
//! and the next line says how many.

use berth_core::chain::{PolicyError, StepOutcome, TraceStep};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The rate limit of one policy's warnings.
#[derive(Default)]
pub(crate) struct IgnoredWarnings {
    window: Mutex<Window>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Window {
    started: Option<Instant>,
    emitted: u32,
    suppressed: u64,
}

impl Window {
    /// Whether a warning at `now` is logged; if so, how many were held
    /// back before it.
    fn admit(&mut self, now: Instant, per_window: u32, length: Duration) -> Option<u64> {
        let expired = self
            .started
            .is_none_or(|started| now.saturating_duration_since(started) >= length);
        if expired {
            self.started = Some(now);
            self.emitted = 0;
        }
        if self.emitted >= per_window {
            self.suppressed = self.suppressed.saturating_add(1);
            return None;
        }
        self.emitted += 1;
        Some(std::mem::take(&mut self.suppressed))
    }
}

impl IgnoredWarnings {
    /// Logs the ignored errors of `policy` in `trace`, skipping the last
    /// `repeats` (an instance that failed once reports the same failure to
    /// its later phases; that is one failure, not several).
    pub fn warn(
        &self,
        policy: &str,
        trace: &[TraceStep],
        repeats: u32,
        per_window: u32,
        window: Duration,
    ) {
        let errors: Vec<(&TraceStep, &PolicyError)> = trace
            .iter()
            .filter(|t| t.policy == policy)
            .filter_map(|t| match &t.outcome {
                StepOutcome::IgnoredError(error) => Some((t, error)),
                _ => None,
            })
            .collect();
        let counted = errors.len().saturating_sub(repeats as usize);
        for (step, error) in &errors[..counted] {
            let admitted = self
                .window
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .admit(Instant::now(), per_window, window);
            if let Some(suppressed) = admitted {
                tracing::warn!(
                    policy,
                    phase = ?step.phase,
                    kind = ?error.kind,
                    suppressed,
                    "policy error ignored (failurePolicy: Ignore), the chain went on without it: {}",
                    error.message
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_admits_its_quota_then_counts_what_it_holds_back() {
        let start = Instant::now();
        let minute = Duration::from_secs(60);
        let mut window = Window::default();
        for _ in 0..3 {
            assert_eq!(window.admit(start, 3, minute), Some(0));
        }
        for i in 1..=10u64 {
            assert_eq!(
                window.admit(start + Duration::from_secs(i), 3, minute),
                None
            );
        }
        // The next window's first line reports the ten held back, once.
        let later = start + minute;
        assert_eq!(window.admit(later, 3, minute), Some(10));
        assert_eq!(window.admit(later, 3, minute), Some(0));
    }
}
