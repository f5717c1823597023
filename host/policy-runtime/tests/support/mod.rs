//! Shared by the integration tests: one runtime per test binary (a
//! debug-build compile costs over a second, and the runtime caches compiled
//! components by digest), a chain host with fixed bindings, and request
//! builders.
#![allow(dead_code)] // each test binary uses its own subset

use berth_core::chain::{
    ChainError, ChainHost, ChainOutcome, FailurePolicy, Phase, PolicyChain, StepOutcome,
};
use berth_policy_runtime::{LoadedChain, PolicyConfig, Runtime, RuntimeLimits};
use berth_policy_sdk::harness::{candidate, pool, RequestBuilder};
use berth_policy_sdk::{Binding, Candidate, Decision, Identity, Request};
use std::sync::OnceLock;

/// The default limits, except a 500 ms deadline: the deadline is wall
/// clock, and a debug build on a loaded 2-core machine can take tens of
/// milliseconds for an honest call. Runaway guests still stop well within
/// a second; the bench exercises the default deadline in release.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Runtime::new(RuntimeLimits {
            deadline_ticks: 50,
            ..RuntimeLimits::default()
        })
        .expect("runtime starts")
    })
}

pub fn load(configs: &[PolicyConfig]) -> LoadedChain {
    runtime()
        .load_chain(configs)
        .unwrap_or_else(|e| panic!("chain loads: {e}"))
}

pub fn builtin(name: &str, builtin: &str, settings: serde_json::Value) -> PolicyConfig {
    PolicyConfig::builtin(name, builtin).with_settings(settings)
}

pub fn hostile(name: &str, fixture: &str, failure_policy: FailurePolicy) -> PolicyConfig {
    PolicyConfig::bytes(name, berth_wasm_fixtures::component(fixture).to_vec())
        .with_failure_policy(failure_policy)
}

/// The allocator's side of a run: every identity holds `bindings`, and any
/// address listed in `assignable` may be handed out.
#[derive(Default, Clone)]
pub struct TestHost {
    pub bindings: Vec<Binding>,
    pub assignable: Vec<Candidate>,
}

impl ChainHost for TestHost {
    fn bindings_of(&self, _identity: &Identity) -> Vec<Binding> {
        self.bindings.clone()
    }

    fn is_assignable(&self, candidate: &Candidate, _identity: Option<&Identity>) -> bool {
        self.assignable.contains(candidate)
    }
}

pub fn held(bindings: &[Binding]) -> TestHost {
    TestHost {
        bindings: bindings.to_vec(),
        assignable: Vec::new(),
    }
}

/// A StatefulSet pod of `test-ippool` (the seed scenario's pool).
pub fn sts(ns: &str, name: &str, ordinal: u32) -> Request {
    RequestBuilder::new()
        .namespace(ns)
        .stateful_set(name, ordinal)
        .pools(vec![pool("test-ippool", "10.6.0.0/16")])
        .candidates(vec![
            candidate("test-ippool", "10.6.168.101"),
            candidate("test-ippool", "10.6.168.102"),
        ])
        .build()
}

/// A Deployment pod of `test-ippool`.
pub fn stateless() -> Request {
    RequestBuilder::new()
        .pod_name("web-7d9f-abcde")
        .owner("ReplicaSet", "web-7d9f")
        .pools(vec![pool("test-ippool", "10.6.0.0/16")])
        .candidates(vec![
            candidate("test-ippool", "10.6.168.101"),
            candidate("test-ippool", "10.6.168.102"),
        ])
        .build()
}

pub fn run(
    chain: &dyn PolicyChain,
    request: &Request,
    host: &TestHost,
) -> Result<ChainOutcome, ChainError> {
    chain.run(request.clone(), host)
}

/// The decision `policy` made in the evaluate phase of a successful run.
pub fn decision_of(outcome: &ChainOutcome, policy: &str) -> Decision {
    outcome
        .trace
        .iter()
        .find(|t| t.policy == policy && t.phase == Phase::Evaluate)
        .and_then(|t| match &t.outcome {
            StepOutcome::Decided(decision) => Some(decision.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{policy} made no decision: {:?}", outcome.trace))
}

/// The chain failed because `policy` erred; returns that error.
pub fn failure_of(
    result: Result<ChainOutcome, ChainError>,
) -> (String, berth_core::chain::PolicyError, usize) {
    match result {
        Err(ChainError::Failed {
            policy,
            error,
            trace,
        }) => (policy, error, trace.len()),
        other => panic!("expected a failed chain, got {other:?}"),
    }
}
