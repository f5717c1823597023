//! The semantics of a policy chain, independent of how a policy runs: the
//! host's legality rules, in one place.
//!
//! The host's Wasm runtime (`berth-policy-runtime`, through `berth-core`,
//! which re-exports this module) and this SDK's native test harness both
//! drive policies through [`PolicyStep`]; this module decides what an
//! answer means, checks that it is legal, and applies each policy's
//! `failurePolicy`. It lives in the SDK, not the host, so a policy's unit
//! tests fail on exactly the answers the daemon refuses. Keeping it pure
//! lets the simulation tests exercise the exact chain logic the daemon
//! uses.
//!
//! Phases: every policy is first asked to `identify` the request (the first
//! identity stated wins); the host then looks up that identity's bindings
//! and puts the addresses it holds at the front of the candidates; finally
//! every policy `evaluate`s in order, each seeing the candidates as the
//! policies before it left them.

mod outcome;
mod query;
mod state;

pub use outcome::{
    ChainError, ChainOutcome, FailurePolicy, Phase, PolicyError, PolicyErrorKind, StepOutcome,
    TraceStep,
};
pub use query::{answer_free_in_range, answer_is_free, answer_released_at};

use crate::limits::{CHAIN_BINDINGS_MAX, IDENTITY_KEY_BYTES_MAX, REASON_BYTES_MAX};
use crate::{Binding, Candidate, Decision, Identity, Request};
use state::State;
use std::net::IpAddr;

/// One policy of a chain, ready to answer for one request.
pub trait PolicyStep {
    fn name(&self) -> &str;
    fn failure_policy(&self) -> FailurePolicy;
    fn identify(&mut self, request: &Request) -> Result<Option<Identity>, PolicyError>;
    fn evaluate(&mut self, request: &Request) -> Result<Decision, PolicyError>;
}

/// What the chain needs from the allocator while it runs: its view of
/// this request's pools. Policies' queries (contract 0.2, [`query`]) are
/// answered from it too, so a query and the legality check of the answer
/// it leads to can never disagree.
pub trait ChainHost {
    /// Addresses `identity` holds, any interface or family.
    fn bindings_of(&self, identity: &Identity) -> Vec<Binding>;
    /// Whether `candidate` could be handed to this request: an assignable
    /// address of one of the request's pools, free or held by `identity`.
    fn is_assignable(&self, candidate: &Candidate, identity: Option<&Identity>) -> bool;
    /// Free addresses of `pool` (one of the request's pools) from `first`
    /// to `last` inclusive, ascending, at most `limit`: exactly those
    /// [`ChainHost::is_assignable`] accepts for a new binding. This default
    /// asks `is_assignable` address by address, at most
    /// [`crate::limits::QUERY_RANGE_SCAN_MAX`] of them; a host with a free index (the
    /// allocator) answers from it instead.
    fn free_in_range(&self, pool: &str, first: IpAddr, last: IpAddr, limit: usize) -> Vec<IpAddr> {
        query::scan_free(self, pool, first, last, limit)
    }
    /// When a pod last let go of `address` of `pool` (its DEL), in seconds
    /// since the Unix epoch, if the host knows. This default knows nothing:
    /// hosts without a history (fixtures) answer `None`, which a cooldown
    /// policy must read as "not recently released".
    fn released_at(&self, _pool: &str, _address: IpAddr) -> Option<u64> {
        None
    }
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

    let mut state = State::new(&request, sample);
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

/// Whether `decision` is a legal answer of a policy that sees `request`
/// as the first of a chain would (no earlier pick or narrowing beyond a
/// requested address): the rules `run_chain` applies to every answer.
pub fn check_decision(
    request: &Request,
    decision: &Decision,
    host: &dyn ChainHost,
) -> Result<(), PolicyError> {
    State::new(request, request.candidates.clone()).apply(decision, request, host)
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
