//! Policies written in Python (componentize-py) and JavaScript
//! (componentize-js), built in the test with the pinned toolchains and
//! loaded unchanged: the sticky-statefulset rule in each language decides
//! exactly as the Rust policy does, and a Python guest reaching for
//! ambient capabilities gets none and never makes the host wait.

mod support;

use berth_core::chain::{run_chain, ChainError, FailurePolicy, PolicyError, PolicyStep};
use berth_policy_runtime::{LoadError, PolicyConfig};
use berth_policy_sdk::harness::{binding, candidate, pool, RequestBuilder};
use berth_policy_sdk::{Binding, Decision, Identity, Native, Request};
use berth_wasm_build::foreign::Language;
use serde_json::{json, Value};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use sticky_statefulset::StickyStatefulSet;
use support::*;

pub const PYTHON_STICKY: &str = "policies/sticky-statefulset-python";
pub const JS_STICKY: &str = "policies/sticky-statefulset-js/policy.js";

fn python_sticky() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| foreign(Language::Python, PYTHON_STICKY))
}

fn js_sticky() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| foreign(Language::JavaScript, JS_STICKY))
}

/// The Rust policy, natively, as the chain step the others must match.
struct RustSticky(String);

impl PolicyStep for RustSticky {
    fn name(&self) -> &str {
        "sticky"
    }
    fn failure_policy(&self) -> FailurePolicy {
        FailurePolicy::Fail
    }
    fn identify(&mut self, request: &Request) -> Result<Option<Identity>, PolicyError> {
        use berth_policy_sdk::DynPolicy;
        Native::<StickyStatefulSet>::new()
            .identify(&self.0, request)
            .map_err(|e| PolicyError::new(berth_core::chain::PolicyErrorKind::Internal, e))
    }
    fn evaluate(&mut self, request: &Request) -> Result<Decision, PolicyError> {
        use berth_policy_sdk::DynPolicy;
        Native::<StickyStatefulSet>::new()
            .evaluate(&self.0, request)
            .map_err(|e| PolicyError::new(berth_core::chain::PolicyErrorKind::Internal, e))
    }
}

fn requests() -> Vec<(&'static str, Request, Vec<Binding>)> {
    let sts = |ordinal| {
        RequestBuilder::new()
            .namespace("db")
            .stateful_set("pg", ordinal)
            .pools(vec![pool("a", "10.1.0.0/24"), pool("b", "10.2.0.0/24")])
            .candidates(vec![candidate("a", "10.1.0.7"), candidate("b", "10.2.0.9")])
    };
    vec![
        (
            "held address is picked",
            sts(0).build(),
            vec![binding("b", "10.2.0.9")],
        ),
        ("nothing held", sts(1).build(), vec![]),
        (
            "held in a pool no longer a candidate",
            sts(2).build(),
            vec![binding("c", "10.3.0.1")],
        ),
        (
            "held on another interface",
            sts(3).interface("net1").build(),
            vec![binding("a", "10.1.0.7")],
        ),
        (
            "a deployment pod",
            RequestBuilder::new().owner("ReplicaSet", "web-1").build(),
            vec![],
        ),
        (
            "a bare pod",
            RequestBuilder::new().pod_name("lonely").build(),
            vec![],
        ),
        (
            "a pod name with a space",
            RequestBuilder::new().pod_name("lonely one").build(),
            vec![],
        ),
        (
            "a pod name past the key bound (cut and hashed)",
            RequestBuilder::new()
                .pod_name(&format!("lon{}é", "g".repeat(300)))
                .build(),
            vec![],
        ),
    ]
}

#[test]
fn python_and_javascript_sticky_decide_as_the_rust_policy() {
    let stable = json!({"stableIdentities": [
        {"ownerKind": "ReplicaSet", "retainSecs": "1h"},
        {"podNamePattern": "lon*"}
    ]});
    for settings in [
        json!({}),
        json!({"holdAfterScaleDown": "10m"}),
        json!({"statefulSets": false}),
        json!({"holdAfterScaleDown": 45}),
        stable,
    ] {
        for (language, bytes) in [("python", python_sticky()), ("js", js_sticky())] {
            let config =
                PolicyConfig::bytes("sticky", bytes.to_vec()).with_settings(settings.clone());
            let chain = load(&[config]);
            for (name, request, bindings) in requests() {
                let host = held(&bindings);
                let got = run(&chain, &request, &host);
                let mut rust = RustSticky(settings.to_string());
                let want = run_chain(
                    &mut [&mut rust as &mut dyn PolicyStep],
                    request.clone(),
                    &host,
                );
                assert_eq!(got, want, "{language} {settings} {name}");
            }
        }
    }
}

#[test]
fn the_languages_metadata_is_their_own() {
    for (bytes, name) in [
        (python_sticky(), "sticky-statefulset-python"),
        (js_sticky(), "sticky-statefulset-js"),
    ] {
        let chain = load(&[PolicyConfig::bytes("sticky", bytes.to_vec())]);
        let metadata = chain.policies()[0].metadata();
        assert_eq!(metadata.name, name);
        assert_eq!(metadata.contract, "0.2.0");
    }
}

#[test]
fn bad_settings_are_refused_at_load_in_every_language() {
    for (language, bytes) in [("python", python_sticky()), ("js", js_sticky())] {
        for (settings, want) in [
            (
                json!({"holdAfterScaleDown": "soon"}),
                "settings.holdAfterScaleDown",
            ),
            (json!({"holdAfterScaleDown": "5w"}), "unknown unit"),
            (json!({"statefulSet": true}), "unknown field"),
            (json!({"statefulSets": "yes"}), "settings.statefulSets"),
            (json!([1]), "expected a JSON object"),
            (
                json!({"stableIdentities": [{}]}),
                "needs a non-empty ownerKind or podNamePattern",
            ),
            (
                json!({"stableIdentities": [{"ownerKind": "A", "podNamePattern": "b"}]}),
                "not both",
            ),
        ] {
            let config =
                PolicyConfig::bytes("sticky", bytes.to_vec()).with_settings(settings.clone());
            match runtime().load_chain(&[config]) {
                Err(LoadError::InvalidSettings { message, .. }) => {
                    assert!(message.contains(want), "{language} {settings}: {message}");
                }
                other => panic!("{language} {settings}: expected invalid settings, got {other:?}"),
            }
        }
    }
}

/// What the hostile Python guest reports about its world.
fn ambient_report(seed: u64) -> (Value, Duration) {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    let bytes =
        BYTES.get_or_init(|| foreign(Language::Python, "tests/wasm-fixtures/python/ambient"));
    let chain = load(&[PolicyConfig::bytes("ambient", bytes.clone())]);
    let mut request = sts("default", "test-sts", 0);
    request.seed = seed;
    request.now_unix_secs = 1_700_000_000;
    let started = Instant::now();
    let result = run(&chain, &request, &TestHost::default());
    let elapsed = started.elapsed();
    match result {
        Err(ChainError::Rejected { reason, .. }) => (
            serde_json::from_str(&reason).expect("the guest reports JSON"),
            elapsed,
        ),
        other => panic!("expected the guest's report, got {other:?}"),
    }
}

#[test]
fn a_python_guest_gets_no_ambient_capability_and_cannot_wait() {
    let (report, elapsed) = ambient_report(7);
    eprintln!("{report:#}\nin {elapsed:?}");
    // The guest slept 10 s; the host did not wait (loose bound: a loaded
    // debug build, not a speed test).
    assert!(
        elapsed < Duration::from_secs(5),
        "the host waited {elapsed:?}"
    );
    assert_eq!(
        report["slept"]["ok"], "0.0",
        "the monotonic clock is frozen"
    );
    for refused in ["read_file", "list_root", "socket", "resolve"] {
        assert!(
            report[refused].get("error").is_some(),
            "{refused}: {}",
            report[refused]
        );
    }
    assert_eq!(report["environ"], json!({}), "no environment");
    assert_eq!(
        report["time"],
        json!(1_700_000_000.0),
        "the wall clock is the request's"
    );
    // Randomness is seeded from the request: the same seed, the same
    // numbers; another seed, others.
    let (again, _) = ambient_report(7);
    assert_eq!(report["urandom"], again["urandom"]);
    let (other, _) = ambient_report(8);
    assert_ne!(report["urandom"], other["urandom"]);
}
