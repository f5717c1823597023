//! What a chain run says: the outcome of each step, the trace that explains
//! a decision, and the errors a policy or the chain can end in.

use crate::{Candidate, Decision, Identity};
use serde::{Deserialize, Serialize};

/// What happens to a request when a policy errs (not when it rejects).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum FailurePolicy {
    /// The request fails, naming the policy and its error.
    #[default]
    Fail,
    /// The policy counts as abstaining; the error is counted and logged.
    Ignore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyErrorKind {
    /// The wall-clock deadline (or fuel) ran out.
    Timeout,
    /// The guest trapped (panic, unreachable, bad memory access).
    Trap,
    /// The guest tried to grow memory past its cap.
    OutOfMemory,
    /// The answer broke the contract (illegal pick, oversized list, ...).
    InvalidAnswer,
    /// The host could not run the policy (instantiation failed, ...).
    Internal,
}

impl PolicyErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Trap => "trap",
            Self::OutOfMemory => "out-of-memory",
            Self::InvalidAnswer => "invalid-answer",
            Self::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}: {message}", kind.as_str())]
pub struct PolicyError {
    pub kind: PolicyErrorKind,
    pub message: String,
}

impl PolicyError {
    pub fn new(kind: PolicyErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(PolicyErrorKind::InvalidAnswer, message)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Identify,
    Evaluate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepOutcome {
    Identified(Option<Identity>),
    Decided(Decision),
    /// The policy erred and its `failurePolicy` is Ignore.
    IgnoredError(PolicyError),
}

impl StepOutcome {
    /// The policy had nothing to say (no identity, or no decision).
    pub fn is_abstention(&self) -> bool {
        matches!(
            self,
            StepOutcome::Identified(None) | StepOutcome::Decided(Decision::Abstain)
        )
    }
}

/// One line of the explanation of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceStep {
    pub policy: String,
    pub phase: Phase,
    pub outcome: StepOutcome,
}

impl TraceStep {
    pub fn new(policy: impl Into<String>, phase: Phase, outcome: StepOutcome) -> Self {
        Self {
            policy: policy.into(),
            phase,
            outcome,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainOutcome {
    pub identity: Option<Identity>,
    /// Remaining pools, in the order the chain left them.
    pub pools: Vec<String>,
    /// Remaining sampled candidates, best first.
    pub candidates: Vec<Candidate>,
    pub picked: Option<Candidate>,
    /// True once the candidates are an explicit list (narrow, pick or a
    /// requested address): the allocator must then choose among them only.
    pub narrowed: bool,
    pub trace: Vec<TraceStep>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ChainError {
    #[error("policy {policy} rejected the request: {reason}")]
    Rejected {
        policy: String,
        reason: String,
        trace: Vec<TraceStep>,
    },
    #[error("policy {policy} failed ({error})")]
    Failed {
        policy: String,
        error: PolicyError,
        trace: Vec<TraceStep>,
    },
}
