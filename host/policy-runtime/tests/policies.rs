//! The built-in policies, run as Wasm components through the real runtime,
//! on the same tables as their native tests, and compared against the
//! native build of the same policy run through the same chain semantics.

mod support;

use berth_core::chain::{
    run_chain, ChainOutcome, FailurePolicy, PolicyError, PolicyErrorKind, PolicyStep,
};
use berth_policy_runtime::LoadError;
use berth_policy_sdk::{Binding, Decision, DynPolicy, Identity, Native, Request};
use serde_json::{json, Value};
use sticky_statefulset::{examples, StickyStatefulSet};
use support::*;

/// The native policy as a chain step: the reference the Wasm run must match.
struct NativeStep {
    policy: Native<StickyStatefulSet>,
    settings: String,
}

impl PolicyStep for NativeStep {
    fn name(&self) -> &str {
        "sticky"
    }
    fn failure_policy(&self) -> FailurePolicy {
        FailurePolicy::Fail
    }
    fn identify(&mut self, request: &Request) -> Result<Option<Identity>, PolicyError> {
        self.policy
            .identify(&self.settings, request)
            .map_err(|e| PolicyError::new(PolicyErrorKind::Internal, e))
    }
    fn evaluate(&mut self, request: &Request) -> Result<Decision, PolicyError> {
        self.policy
            .evaluate(&self.settings, request)
            .map_err(|e| PolicyError::new(PolicyErrorKind::Internal, e))
    }
}

/// Runs `request` through the Wasm build and the native build of
/// sticky-statefulset; asserts they agree and returns the Wasm outcome.
fn sticky(settings: &Value, request: &Request, bindings: &[Binding]) -> ChainOutcome {
    let chain = load(&[builtin("sticky", "sticky-statefulset", settings.clone())]);
    let host = held(bindings);
    let wasm = run(&chain, request, &host).expect("sticky never fails a chain");
    let mut native = NativeStep {
        policy: Native::new(),
        settings: settings.to_string(),
    };
    let native = run_chain(
        &mut [&mut native as &mut dyn PolicyStep],
        request.clone(),
        &host,
    )
    .expect("native run succeeds");
    assert_eq!(
        wasm, native,
        "wasm and native disagree for {settings} on {request:?}"
    );
    wasm
}

/// An example's settings as the chain's config carries them.
fn settings_value(settings: &str) -> Value {
    if settings.is_empty() {
        json!({})
    } else {
        serde_json::from_str(settings).expect("example settings are JSON")
    }
}

#[test]
fn sticky_identify_table() {
    for example in examples::identify_examples() {
        let outcome = sticky(&settings_value(example.settings), &example.request, &[]);
        assert_eq!(outcome.identity, example.want, "{}", example.name);
    }
}

#[test]
fn sticky_evaluate_table() {
    for example in examples::evaluate_examples() {
        let settings = settings_value(example.settings);
        let outcome = sticky(&settings, &example.request, &example.bindings);
        assert_eq!(
            decision_of(&outcome, "sticky"),
            example.want,
            "{}",
            example.name
        );
        if let Decision::Pick(picked) = &example.want {
            assert_eq!(outcome.picked.as_ref(), Some(picked), "{}", example.name);
        }
    }
}

#[test]
fn sticky_bad_settings_refuse_the_chain_naming_the_field() {
    for (settings, want) in examples::BAD_SETTINGS {
        let settings = settings_value(settings);
        let config = builtin("sticky", "sticky-statefulset", settings.clone());
        match runtime().load_chain(&[config]) {
            Err(LoadError::InvalidSettings { policy, message }) => {
                assert_eq!(policy, "sticky");
                assert!(message.contains(want), "{settings}: {message}");
            }
            other => panic!("{settings}: expected invalid settings, got {other:?}"),
        }
    }
}

#[test]
fn sticky_metadata_is_read_at_load() {
    let chain = load(&[builtin("sticky", "sticky-statefulset", json!({}))]);
    let policy = &chain.policies()[0];
    assert_eq!(policy.metadata().name, "sticky-statefulset");
    assert!(policy.metadata().contract.starts_with("0.2."));
    assert_eq!(policy.sha256().len(), 64);
}
