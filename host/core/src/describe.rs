//! Words for what a record holds: its retention and the steps of the
//! decision that chose it. One wording, shared by `berthd explain` (over
//! the node's socket) and `kubectl berth explain` (over the API), so the
//! two never describe one record differently.

use crate::chain::{Phase, StepOutcome, TraceStep};
use berth_policy_sdk::{Decision, Retention};

/// "keep until retired, then 30s", "release on delete", ...
pub fn retention(r: Retention) -> String {
    match r {
        Retention::ReleaseOnDelete => "release on delete".into(),
        Retention::KeepForSecs(s) => format!("keep {s}s after delete"),
        Retention::KeepUntilRetired(0) => "keep until retired".into(),
        Retention::KeepUntilRetired(s) => format!("keep until retired, then {s}s"),
    }
}

/// One line per step: "sticky-statefulset [evaluate]: picked 10.6.168.101 from test-ippool".
pub fn trace_step(step: &TraceStep) -> String {
    let phase = match step.phase {
        Phase::Identify => "identify",
        Phase::Evaluate => "evaluate",
    };
    let what = match &step.outcome {
        StepOutcome::Identified(None) => "no identity (abstained)".to_owned(),
        StepOutcome::Identified(Some(id)) => {
            format!("identity {} ({})", id.key, retention(id.retention))
        }
        StepOutcome::Decided(Decision::Abstain) => "abstained".to_owned(),
        StepOutcome::Decided(Decision::RestrictPools(p)) => format!("restricted pools to {p:?}"),
        StepOutcome::Decided(Decision::Narrow(c)) => {
            format!("narrowed to {} candidate(s)", c.len())
        }
        StepOutcome::Decided(Decision::Reorder(c)) => {
            format!("moved {} candidate(s) first", c.len())
        }
        StepOutcome::Decided(Decision::Pick(c)) => format!("picked {} from {}", c.address, c.pool),
        StepOutcome::Decided(Decision::Reject(reason)) => format!("rejected: {reason}"),
        StepOutcome::IgnoredError(e) => format!("error ignored (failurePolicy Ignore): {e}"),
    };
    format!("{} [{phase}]: {what}", step.policy)
}

/// The policy that chose the address of a decision: the one that picked
/// it, else the last that narrowed, reordered or restricted the
/// candidates; `None` when every policy abstained (the allocator chose).
pub fn placed_by(trace: &[TraceStep]) -> Option<&str> {
    let evaluated = || trace.iter().rev().filter(|t| t.phase == Phase::Evaluate);
    let picked = evaluated().find(|t| matches!(t.outcome, StepOutcome::Decided(Decision::Pick(_))));
    let shaped = || {
        evaluated().find(|t| {
            matches!(
                t.outcome,
                StepOutcome::Decided(
                    Decision::Narrow(_) | Decision::Reorder(_) | Decision::RestrictPools(_)
                )
            )
        })
    };
    picked.or_else(shaped).map(|t| t.policy.as_str())
}

/// What an explanation says when a record kept no step: records keep only
/// the steps that did something.
pub const NO_STEPS: &str = "every policy abstained; the allocator chose the address";

#[cfg(test)]
mod tests {
    use super::*;
    use berth_policy_sdk::Candidate;

    #[test]
    fn placed_by_names_the_picker_over_policies_that_shaped_the_candidates() {
        let c = Candidate {
            pool: "p".into(),
            address: "10.0.0.5".into(),
        };
        let narrow = TraceStep::new(
            "narrower",
            Phase::Evaluate,
            StepOutcome::Decided(Decision::Narrow(vec![c.clone()])),
        );
        let pick = TraceStep::new(
            "picker",
            Phase::Evaluate,
            StepOutcome::Decided(Decision::Pick(c)),
        );
        let reorder = TraceStep::new(
            "reorderer",
            Phase::Evaluate,
            StepOutcome::Decided(Decision::Reorder(Vec::new())),
        );
        let identify = TraceStep::new("id", Phase::Identify, StepOutcome::Identified(None));
        assert_eq!(
            placed_by(&[identify.clone(), pick, reorder.clone()]),
            Some("picker")
        );
        assert_eq!(
            placed_by(&[narrow, reorder.clone()]),
            Some("reorderer"),
            "the last to shape the candidates"
        );
        let abstain = TraceStep::new(
            "quiet",
            Phase::Evaluate,
            StepOutcome::Decided(Decision::Abstain),
        );
        assert_eq!(placed_by(&[identify, abstain]), None);
    }
}
