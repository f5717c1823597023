//! What the chain saw and decided on each run of one ADD (one run per
//! address family), captured so the daemon can explain the allocation
//! later: the request behind it as a `berth-policy` fixture, the policy
//! and version that placed it, or the policy that refused it.
//!
//! It wraps the chain the ADD runs, so it sees exactly the request the
//! policies saw (after the allocator sampled the candidates) and the host
//! state they could ask about, and no code path of the allocator changes.

use berth_core::chain::{ChainError, ChainHost, ChainOutcome, PolicyChain, StepOutcome};
use berth_core::describe;
use berth_policy_runtime::LoadedChain;
use berth_policy_sdk::{Binding, Candidate, Request};
use std::sync::Mutex;

/// One run of the chain.
#[derive(Debug)]
pub struct Captured {
    /// The request as the chain received it.
    pub request: Request,
    /// What the identity the chain stated held when it ran.
    pub bindings: Vec<Binding>,
    /// A pick the host accepted from outside the sampled candidates: a
    /// replay must be told it was assignable.
    pub free: Vec<Candidate>,
    pub result: Result<ChainOutcome, ChainError>,
    /// The policy that chose the address or refused the request, with
    /// what it says of itself ("sticky-statefulset 0.1.0").
    pub decided_by: Option<String>,
    /// The settings of the only policy of the chain (so a fixture of a
    /// one-policy chain replays with them); `None` for longer chains.
    pub settings: Option<serde_json::Value>,
}

/// Runs `chain`, keeping a [`Captured`] of every run in `runs`.
pub struct RecordingChain<'a> {
    chain: &'a LoadedChain,
    runs: &'a Mutex<Vec<Captured>>,
}

impl<'a> RecordingChain<'a> {
    pub fn new(chain: &'a LoadedChain, runs: &'a Mutex<Vec<Captured>>) -> Self {
        Self { chain, runs }
    }
}

/// "name version", or "name (self-name version)" when the config names
/// the policy differently from the policy itself.
pub fn describe_policy(chain: &LoadedChain, policy: &str) -> String {
    match chain.policies().iter().find(|p| p.name() == policy) {
        Some(p) if p.metadata().name == policy => {
            format!("{policy} {}", p.metadata().version)
        }
        Some(p) => format!("{policy} ({} {})", p.metadata().name, p.metadata().version),
        None => policy.to_owned(),
    }
}

impl PolicyChain for RecordingChain<'_> {
    fn run(&self, request: Request, host: &dyn ChainHost) -> Result<ChainOutcome, ChainError> {
        // The one copy an ADD pays for being explainable: the chain
        // consumes its request.
        let seen = request.clone();
        let result = self.chain.run(request, host);
        let (trace, decider) = match &result {
            Ok(outcome) => (&outcome.trace, describe::placed_by(&outcome.trace)),
            Err(ChainError::Rejected { policy, trace, .. })
            | Err(ChainError::Failed { policy, trace, .. }) => (trace, Some(policy.as_str())),
        };
        let bindings = trace
            .iter()
            .find_map(|t| match &t.outcome {
                StepOutcome::Identified(Some(identity)) => Some(host.bindings_of(identity)),
                _ => None,
            })
            .unwrap_or_default();
        let free = match &result {
            Ok(outcome) => outcome
                .picked
                .iter()
                .filter(|c| !seen.candidates.contains(c))
                .filter(|c| !bindings.iter().any(|b| b.address == c.address))
                .cloned()
                .collect(),
            Err(_) => Vec::new(),
        };
        let settings = match self.chain.policies() {
            [only] => serde_json::from_str(only.settings_json()).ok(),
            _ => None,
        };
        let captured = Captured {
            decided_by: decider.map(|p| describe_policy(self.chain, p)),
            request: seen,
            bindings,
            free,
            result: result.clone(),
            settings,
        };
        // A poisoned list only loses the explanation, never the ADD.
        if let Ok(mut runs) = self.runs.lock() {
            runs.push(captured);
        }
        result
    }
}
