//! Shared by the integration tests: one runtime per test binary (a
//! debug-build compile costs over a second, and the runtime caches compiled
//! components by digest), a chain host with fixed bindings, and request
//! builders.
#![allow(dead_code)] // each test binary uses its own subset

use berth_core::chain::{
    ChainError, ChainHost, ChainOutcome, FailurePolicy, Phase, PolicyChain, StepOutcome,
};
use berth_policy_runtime::{LoadedChain, PolicyConfig, Runtime, RuntimeLimits};
use berth_policy_sdk::harness::RequestBuilder;
use berth_policy_sdk::{Binding, Candidate, Decision, Identity, Request};
use std::sync::OnceLock;

/// The production limits: the call budget counts CPU time, so parallel
/// test threads on a loaded machine do not eat into an honest call's budget.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::new(RuntimeLimits::default()).expect("runtime starts"))
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
    /// Every address of the request's pools may be handed out.
    pub assign_all: bool,
}

impl ChainHost for TestHost {
    fn bindings_of(&self, _identity: &Identity) -> Vec<Binding> {
        self.bindings.clone()
    }

    fn is_assignable(&self, candidate: &Candidate, _identity: Option<&Identity>) -> bool {
        self.assign_all || self.assignable.contains(candidate)
    }
}

pub fn held(bindings: &[Binding]) -> TestHost {
    TestHost {
        bindings: bindings.to_vec(),
        ..TestHost::default()
    }
}

/// Every identity holds `bindings`, and every address may be handed out.
pub fn held_any_free(bindings: &[Binding]) -> TestHost {
    TestHost {
        bindings: bindings.to_vec(),
        assign_all: true,
        ..TestHost::default()
    }
}

/// A StatefulSet pod of `test-ippool` (the seed scenario's pool).
pub fn sts(ns: &str, name: &str, ordinal: u32) -> Request {
    RequestBuilder::seed_pool()
        .namespace(ns)
        .stateful_set(name, ordinal)
        .build()
}

/// A Deployment pod of `test-ippool`.
pub fn stateless() -> Request {
    RequestBuilder::seed_pool()
        .pod_name("web-7d9f-abcde")
        .owner("ReplicaSet", "web-7d9f")
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

/// The native build of a policy as a chain step, named like its Wasm
/// twin, so a native run's outcome (trace included) must equal the Wasm
/// run's.
pub struct NativeStep {
    pub name: String,
    pub policy: Box<dyn berth_policy_sdk::DynPolicy>,
    pub settings: String,
}

impl berth_core::chain::PolicyStep for NativeStep {
    fn name(&self) -> &str {
        &self.name
    }
    fn failure_policy(&self) -> FailurePolicy {
        FailurePolicy::Fail
    }
    fn identify(
        &mut self,
        request: &Request,
    ) -> Result<Option<Identity>, berth_core::chain::PolicyError> {
        self.policy
            .identify(&self.settings, request)
            .map_err(native_error)
    }
    fn evaluate(&mut self, request: &Request) -> Result<Decision, berth_core::chain::PolicyError> {
        self.policy
            .evaluate(&self.settings, request)
            .map_err(native_error)
    }
}

fn native_error(message: String) -> berth_core::chain::PolicyError {
    berth_core::chain::PolicyError::new(berth_core::chain::PolicyErrorKind::Internal, message)
}

/// One policy of a compared chain: its name, built-in, settings and native
/// twin.
pub struct Twin {
    pub name: &'static str,
    pub builtin: &'static str,
    pub settings: serde_json::Value,
    pub native: fn() -> Box<dyn berth_policy_sdk::DynPolicy>,
}

/// Runs `request` through the Wasm chain of `twins` and through their
/// native builds; asserts both give the same result and returns it.
pub fn compare(
    twins: &[Twin],
    request: &Request,
    host: &TestHost,
) -> Result<ChainOutcome, ChainError> {
    let configs: Vec<_> = twins
        .iter()
        .map(|t| builtin(t.name, t.builtin, t.settings.clone()))
        .collect();
    let wasm = run(&load(&configs), request, host);
    let mut natives: Vec<NativeStep> = twins
        .iter()
        .map(|t| NativeStep {
            name: t.name.to_owned(),
            policy: (t.native)(),
            settings: t.settings.to_string(),
        })
        .collect();
    let mut steps: Vec<&mut dyn berth_core::chain::PolicyStep> = natives
        .iter_mut()
        .map(|s| s as &mut dyn berth_core::chain::PolicyStep)
        .collect();
    let native = berth_core::chain::run_chain(&mut steps, request.clone(), host);
    assert_eq!(wasm, native, "wasm and native disagree on {request:?}");
    wasm
}

/// Asserts `result` is `want`: `Ok(decision)` of `policy`, or a rejection
/// by `policy` whose reason contains the text.
pub fn expect(
    name: &str,
    policy: &str,
    result: Result<ChainOutcome, ChainError>,
    want: Result<Decision, &str>,
) {
    match (result, want) {
        (Ok(outcome), Ok(want)) => assert_eq!(decision_of(&outcome, policy), want, "{name}"),
        (
            Err(ChainError::Rejected {
                policy: by, reason, ..
            }),
            Err(want),
        ) => {
            assert_eq!(by, policy, "{name}");
            assert!(reason.contains(want), "{name}: {reason}");
        }
        (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
    }
}

/// Asserts loading `builtin` with `settings` is refused for invalid
/// settings, with `want` in the message.
pub fn expect_invalid_settings(builtin_name: &str, settings: serde_json::Value, want: &str) {
    match runtime().load_chain(&[builtin("p", builtin_name, settings.clone())]) {
        Err(berth_policy_runtime::LoadError::InvalidSettings { policy, message }) => {
            assert_eq!(policy, "p");
            assert!(
                message.contains(want),
                "{builtin_name} {settings}: {message}"
            );
        }
        other => panic!("{builtin_name} {settings}: expected invalid settings, got {other:?}"),
    }
}

/// The workspace root (this crate is `host/policy-runtime`).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root exists")
}

/// A Python or JavaScript policy of the repository, built with the pinned
/// componentizer (cached across runs in the target directory).
pub fn foreign(language: berth_wasm_build::foreign::Language, source: &str) -> Vec<u8> {
    let path = berth_wasm_build::foreign::cached_component(
        &workspace_root(),
        language,
        std::path::Path::new(source),
    )
    .unwrap_or_else(|e| panic!("building {source}: {e}"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}
