//! The semantics of a policy chain, independent of how a policy runs.
//!
//! The Wasm runtime (`berth-policy-runtime`) and the native test harness
//! both drive policies through [`PolicyStep`]; this module decides what an
//! answer means, checks that it is legal, and applies each policy's
//! `failurePolicy`. Keeping it pure lets the simulation tests exercise the
//! exact chain logic the daemon uses.
//!
//! Phases: every policy is first asked to `identify` the request (the first
//! identity stated wins); the host then looks up that identity's bindings
//! and puts the addresses it holds at the front of the candidates; finally
//! every policy `evaluate`s in order, each seeing the candidates as the
//! policies before it left them.

use crate::limits::{
    CHAIN_BINDINGS_MAX, DECISION_CANDIDATES_MAX, DECISION_STRING_BYTES_MAX, IDENTITY_KEY_BYTES_MAX,
    REASON_BYTES_MAX,
};
use berth_policy_sdk::{Binding, Candidate, Decision, Identity, Request};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

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

    fn invalid(message: impl Into<String>) -> Self {
        Self::new(PolicyErrorKind::InvalidAnswer, message)
    }
}

/// One policy of a chain, ready to answer for one request.
pub trait PolicyStep {
    fn name(&self) -> &str;
    fn failure_policy(&self) -> FailurePolicy;
    fn identify(&mut self, request: &Request) -> Result<Option<Identity>, PolicyError>;
    fn evaluate(&mut self, request: &Request) -> Result<Decision, PolicyError>;
}

/// What the chain needs from the allocator while it runs.
pub trait ChainHost {
    /// Addresses `identity` holds, any interface or family.
    fn bindings_of(&self, identity: &Identity) -> Vec<Binding>;
    /// Whether `candidate` could be handed to this request: an assignable
    /// address of one of the request's pools, free or held by `identity`.
    fn is_assignable(&self, candidate: &Candidate, identity: Option<&Identity>) -> bool;
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

/// Runs `steps` over `request` (whose `pools`, `candidates` and
/// `requested` the allocator filled in).
pub fn run_chain(
    steps: &mut [&mut dyn PolicyStep],
    mut request: Request,
    host: &dyn ChainHost,
) -> Result<ChainOutcome, ChainError> {
    let mut trace = Vec::with_capacity(steps.len() * 2);

    // Identify: the first identity stated wins. Candidates are withheld so
    // the call is cheap and no policy decides before seeing the bindings.
    let sample = std::mem::take(&mut request.candidates);
    request.identity = None;
    request.bindings.clear();
    for step in steps.iter_mut() {
        let answer = step.identify(&request).and_then(check_identity);
        match answer {
            Ok(found) => {
                trace.push(trace_step(
                    &**step,
                    Phase::Identify,
                    StepOutcome::Identified(found.clone()),
                ));
                if found.is_some() {
                    request.identity = found;
                    break;
                }
            }
            Err(error) => handle_error(&**step, Phase::Identify, error, &mut trace)?,
        }
    }

    let mut state = State {
        pools: request.pools.iter().map(|p| p.name.clone()).collect(),
        pools_changed: true,
        candidates: sample,
        picked: None,
        narrowed: request.requested.is_some(),
    };
    if let Some(identity) = &request.identity {
        let mut bindings = host.bindings_of(identity);
        bindings.truncate(CHAIN_BINDINGS_MAX);
        state.put_held_first(&bindings, &request);
        request.bindings = bindings;
    }

    for step in steps.iter_mut() {
        state.project_pools(&mut request);
        // The policy borrows the current candidates for its call: lent, not
        // copied (a copy per policy was a tenth of a chain run).
        std::mem::swap(&mut request.candidates, &mut state.candidates);
        let answer = step.evaluate(&request);
        std::mem::swap(&mut request.candidates, &mut state.candidates);
        let answer =
            answer.and_then(|decision| state.apply(&decision, &request, host).map(|()| decision));
        match answer {
            Ok(Decision::Reject(reason)) => {
                let policy = step.name().to_owned();
                trace.push(trace_step(
                    &**step,
                    Phase::Evaluate,
                    StepOutcome::Decided(Decision::Reject(reason.clone())),
                ));
                return Err(ChainError::Rejected {
                    policy,
                    reason: bounded_reason(reason),
                    trace,
                });
            }
            Ok(decision) => trace.push(trace_step(
                &**step,
                Phase::Evaluate,
                StepOutcome::Decided(decision),
            )),
            Err(error) => handle_error(&**step, Phase::Evaluate, error, &mut trace)?,
        }
    }

    Ok(ChainOutcome {
        identity: request.identity,
        pools: state.pools,
        candidates: state.candidates,
        picked: state.picked,
        narrowed: state.narrowed,
        trace,
    })
}

fn trace_step(step: &dyn PolicyStep, phase: Phase, outcome: StepOutcome) -> TraceStep {
    TraceStep {
        policy: step.name().to_owned(),
        phase,
        outcome,
    }
}

fn handle_error(
    step: &dyn PolicyStep,
    phase: Phase,
    error: PolicyError,
    trace: &mut Vec<TraceStep>,
) -> Result<(), ChainError> {
    trace.push(trace_step(
        step,
        phase,
        StepOutcome::IgnoredError(error.clone()),
    ));
    match step.failure_policy() {
        FailurePolicy::Ignore => Ok(()),
        FailurePolicy::Fail => {
            // The last trace line records the error itself, not an ignore.
            trace.pop();
            Err(ChainError::Failed {
                policy: step.name().to_owned(),
                error,
                trace: std::mem::take(trace),
            })
        }
    }
}

fn bounded_reason(reason: String) -> String {
    if reason.trim().is_empty() {
        return "(the policy gave no reason)".to_owned();
    }
    truncate_utf8(reason, REASON_BYTES_MAX)
}

/// Cuts `text` to at most `max_bytes`, on a character boundary.
pub fn truncate_utf8(mut text: String, max_bytes: usize) -> String {
    if text.len() > max_bytes {
        let mut cut = max_bytes;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

fn check_identity(found: Option<Identity>) -> Result<Option<Identity>, PolicyError> {
    if let Some(identity) = &found {
        let key = &identity.key;
        if key.is_empty() || key.len() > IDENTITY_KEY_BYTES_MAX {
            return Err(PolicyError::invalid(format!(
                "identity key must be 1..={IDENTITY_KEY_BYTES_MAX} bytes, got {}",
                key.len()
            )));
        }
        if key.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(PolicyError::invalid(
                "identity key contains whitespace or control characters",
            ));
        }
    }
    Ok(found)
}

/// The candidates as the policies so far have left them.
struct State {
    pools: Vec<String>,
    /// The request's pools no longer match `pools` (at first, and after a
    /// restriction): project them before the next call.
    pools_changed: bool,
    candidates: Vec<Candidate>,
    picked: Option<Candidate>,
    narrowed: bool,
}

impl State {
    fn put_held_first(&mut self, bindings: &[Binding], request: &Request) {
        let held: Vec<Candidate> = bindings
            .iter()
            .filter(|b| b.interface == request.interface && b.family == request.family)
            .filter(|b| self.pools.contains(&b.pool))
            .map(|b| Candidate {
                pool: b.pool.clone(),
                address: b.address.clone(),
            })
            .filter(|c| {
                request
                    .requested
                    .as_ref()
                    .is_none_or(|want| *want == c.address)
            })
            .collect();
        if held.is_empty() {
            return;
        }
        self.candidates.retain(|c| !held.contains(c));
        let rest = std::mem::replace(&mut self.candidates, held);
        self.candidates.extend(rest);
    }

    /// Shows the next policy the current pools (the candidates are lent
    /// for the call itself).
    fn project_pools(&mut self, request: &mut Request) {
        if !std::mem::take(&mut self.pools_changed) {
            return;
        }
        let mut pools = std::mem::take(&mut request.pools);
        pools.retain(|p| self.pools.contains(&p.name));
        pools.sort_by_key(|p| self.pools.iter().position(|name| *name == p.name));
        request.free_total = pools.iter().map(|p| p.free).fold(0, u64::saturating_add);
        request.pools = pools;
    }

    fn apply(
        &mut self,
        decision: &Decision,
        request: &Request,
        host: &dyn ChainHost,
    ) -> Result<(), PolicyError> {
        match decision {
            Decision::Abstain | Decision::Reject(_) => Ok(()),
            Decision::RestrictPools(names) => self.restrict_pools(names),
            Decision::Narrow(list) => {
                let list = self.known_subset(list, "narrow")?;
                if list.is_empty() {
                    return Err(PolicyError::invalid(
                        "narrow to no candidates; reject with a reason instead",
                    ));
                }
                if let Some(picked) = &self.picked {
                    if !list.contains(picked) {
                        return Err(PolicyError::invalid(format!(
                            "narrow drops the picked address {}",
                            picked.address
                        )));
                    }
                }
                self.candidates = list;
                self.narrowed = true;
                Ok(())
            }
            Decision::Reorder(list) => {
                let front = self.known_subset(list, "reorder")?;
                self.candidates.retain(|c| !front.contains(c));
                let rest = std::mem::replace(&mut self.candidates, front);
                self.candidates.extend(rest);
                Ok(())
            }
            Decision::Pick(candidate) => self.pick(candidate, request, host),
        }
    }

    fn restrict_pools(&mut self, names: &[String]) -> Result<(), PolicyError> {
        let mut seen = HashSet::new();
        for name in names {
            if !self.pools.contains(name) {
                return Err(PolicyError::invalid(format!(
                    "restrict-pools names {name:?}, not a current pool"
                )));
            }
            if !seen.insert(name) {
                return Err(PolicyError::invalid(format!(
                    "restrict-pools names {name:?} twice"
                )));
            }
        }
        if names.is_empty() {
            return Err(PolicyError::invalid(
                "restrict-pools to no pools; reject with a reason instead",
            ));
        }
        if let Some(picked) = &self.picked {
            if !names.contains(&picked.pool) {
                return Err(PolicyError::invalid(format!(
                    "restrict-pools drops the pool of the picked address {}",
                    picked.address
                )));
            }
        }
        self.pools = names.to_vec();
        self.pools_changed = true;
        self.candidates.retain(|c| names.contains(&c.pool));
        Ok(())
    }

    /// Checks that `list` only names current candidates, once each.
    fn known_subset(&self, list: &[Candidate], what: &str) -> Result<Vec<Candidate>, PolicyError> {
        if list.len() > DECISION_CANDIDATES_MAX {
            return Err(PolicyError::invalid(format!(
                "{what} lists {} candidates, more than {DECISION_CANDIDATES_MAX}",
                list.len()
            )));
        }
        let mut seen = HashSet::new();
        for candidate in list {
            if !self.candidates.contains(candidate) {
                return Err(PolicyError::invalid(format!(
                    "{what} names {}/{}, not a current candidate",
                    candidate.pool, candidate.address
                )));
            }
            if !seen.insert(candidate) {
                return Err(PolicyError::invalid(format!(
                    "{what} names {} twice",
                    candidate.address
                )));
            }
        }
        Ok(list.to_vec())
    }

    fn pick(
        &mut self,
        candidate: &Candidate,
        request: &Request,
        host: &dyn ChainHost,
    ) -> Result<(), PolicyError> {
        if candidate.address.len() > DECISION_STRING_BYTES_MAX
            || candidate.pool.len() > DECISION_STRING_BYTES_MAX
        {
            return Err(PolicyError::invalid(
                "pick has an oversized pool or address",
            ));
        }
        if let Some(picked) = &self.picked {
            if picked != candidate {
                return Err(PolicyError::invalid(format!(
                    "pick {} after an earlier policy picked {}",
                    candidate.address, picked.address
                )));
            }
            return Ok(());
        }
        let listed = self.candidates.contains(candidate);
        let legal_unlisted = !self.narrowed
            && self.pools.contains(&candidate.pool)
            && host.is_assignable(candidate, request.identity.as_ref());
        if !(listed || legal_unlisted) {
            return Err(PolicyError::invalid(format!(
                "pick {}/{} is not a legal candidate",
                candidate.pool, candidate.address
            )));
        }
        self.picked = Some(candidate.clone());
        self.candidates = vec![candidate.clone()];
        self.narrowed = true;
        Ok(())
    }
}

/// A loaded chain the allocator can run. The Wasm runtime implements it
/// (fresh instances per run); tests implement it with native policies.
pub trait PolicyChain: Send + Sync {
    fn run(&self, request: Request, host: &dyn ChainHost) -> Result<ChainOutcome, ChainError>;
}
