//! Loading rules, hot swaps under load, isolation between runs, metrics.

mod support;

use berth_core::chain::{FailurePolicy, PolicyChain, PolicyErrorKind};
use berth_core::limits::CHAIN_POLICIES_MAX;
use berth_policy_runtime::{
    ChainHandle, LoadError, PolicyConfig, PolicySource, Runtime, RuntimeLimits,
};
use berth_policy_sdk::harness::binding;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::*;

fn sticky_bytes() -> &'static [u8] {
    berth_builtin_policies::get("sticky-statefulset").expect("the default policy is built in")
}

#[test]
fn digest_pins_the_module() {
    let actual = hex(sticky_bytes());
    let wrong = "0".repeat(64);
    let config = PolicyConfig::builtin("pinned", "sticky-statefulset").with_sha256(wrong.clone());
    match runtime().load_chain(&[config]) {
        Err(LoadError::DigestMismatch {
            policy,
            expected,
            actual: got,
        }) => {
            assert_eq!(
                (policy.as_str(), expected.as_str()),
                ("pinned", wrong.as_str())
            );
            assert_eq!(got, actual);
        }
        other => panic!("expected a digest mismatch, got {other:?}"),
    }
    let config = PolicyConfig::builtin("pinned", "sticky-statefulset").with_sha256("not-hex");
    assert!(matches!(
        runtime().load_chain(&[config]),
        Err(LoadError::BadDigest { .. })
    ));

    // A file source with the right digest (uppercase is fine) loads.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("sticky.wasm");
    std::fs::write(&path, sticky_bytes()).expect("write module");
    let config: PolicyConfig = serde_json::from_value(json!({
        "name": "from-file", "file": path, "sha256": actual.to_uppercase()
    }))
    .expect("config parses");
    assert_eq!(config.source, PolicySource::File(path.clone()));
    let chain = load(&[config]);
    assert_eq!(chain.policies()[0].sha256(), actual);

    std::fs::write(&path, b"\0asm\x0d\x00\x01\x00tampered").expect("tamper");
    let config = PolicyConfig::new("from-file", PolicySource::File(path)).with_sha256(actual);
    assert!(matches!(
        runtime().load_chain(&[config]),
        Err(LoadError::DigestMismatch { .. })
    ));
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn load_refuses_bad_lists_naming_the_policy() {
    let err = |configs: &[PolicyConfig]| runtime().load_chain(configs).expect_err("refused");

    match err(&[PolicyConfig::builtin("x", "no-such-policy")]) {
        LoadError::UnknownBuiltin { policy, known, .. } => {
            assert_eq!(policy, "x");
            assert!(known.contains("sticky-statefulset"), "{known}");
        }
        other => panic!("{other:?}"),
    }
    let twice = [
        PolicyConfig::builtin("same", "sticky-statefulset"),
        PolicyConfig::builtin("same", "sticky-statefulset"),
    ];
    assert!(matches!(err(&twice), LoadError::DuplicateName { policy } if policy == "same"));
    assert!(matches!(
        err(&[PolicyConfig::builtin("has space", "sticky-statefulset")]),
        LoadError::InvalidName { .. }
    ));
    let many: Vec<_> = (0..=CHAIN_POLICIES_MAX)
        .map(|i| PolicyConfig::builtin(format!("p{i}"), "sticky-statefulset"))
        .collect();
    assert!(matches!(err(&many), LoadError::TooManyPolicies { .. }));
    let unpinned = PolicyConfig::new("loose", PolicySource::File("/nonexistent/x.wasm".into()));
    assert!(
        matches!(err(&[unpinned]), LoadError::MissingDigest { policy, .. } if policy == "loose")
    );
    let missing = PolicyConfig::new("gone", PolicySource::File("/nonexistent/x.wasm".into()))
        .with_sha256("ab".repeat(32));
    assert!(matches!(err(&[missing]), LoadError::Read { policy, .. } if policy == "gone"));
    let garbage = PolicyConfig::bytes("garbage", b"not wasm".to_vec());
    assert!(matches!(err(&[garbage]), LoadError::Compile { policy, .. } if policy == "garbage"));

    // One bad entry refuses the whole list, wherever it is.
    let mixed = [
        PolicyConfig::builtin("good", "sticky-statefulset"),
        builtin("bad", "sticky-statefulset", json!({"statefulSets": "yes"})),
    ];
    let e = err(&mixed);
    assert!(matches!(e, LoadError::InvalidSettings { .. }), "{e}");
    assert_eq!(e.policy(), Some("bad"));
}

#[test]
fn swap_under_concurrent_evaluations() {
    const THREADS: usize = 4;
    const RUNS_EACH_SIDE: usize = 25;
    let chain = |name: &str| load(&[builtin(name, "sticky-statefulset", json!({}))]);
    let handle = Arc::new(ChainHandle::new(chain("before")));
    // Workers that ran RUNS_EACH_SIDE times on the first chain.
    let warmed = Arc::new(AtomicUsize::new(0));
    let swapped = Arc::new(AtomicBool::new(false));
    let host = held(&[binding("test-ippool", "10.6.168.107")]);

    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (handle, warmed, swapped, host) = (
                handle.clone(),
                warmed.clone(),
                swapped.clone(),
                host.clone(),
            );
            std::thread::spawn(move || {
                let mut names = Vec::new();
                let mut after_swap = 0;
                while after_swap < RUNS_EACH_SIDE {
                    let swap_done = swapped.load(Ordering::Acquire);
                    let outcome = handle
                        .run(sts("default", "test-sts", t as u32), &host)
                        .unwrap_or_else(|e| panic!("thread {t}: evaluation failed: {e}"));
                    assert_eq!(
                        outcome.picked.map(|c| c.address).as_deref(),
                        Some("10.6.168.107")
                    );
                    names.push(outcome.trace[0].policy.clone());
                    if names.len() == RUNS_EACH_SIDE {
                        warmed.fetch_add(1, Ordering::AcqRel);
                    }
                    if swap_done {
                        after_swap += 1;
                    }
                }
                names
            })
        })
        .collect();

    // Swap once every worker is evaluating; a worker that died early ends
    // the wait (its panic is reported by the join below).
    while warmed.load(Ordering::Acquire) < THREADS && !workers.iter().any(|w| w.is_finished()) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let in_flight = handle.current();
    let old = handle.swap(chain("after"));
    assert!(Arc::ptr_eq(&old, &in_flight));
    swapped.store(true, Ordering::Release);
    // A run that took the old chain before the swap still completes on it.
    let outcome = in_flight
        .run(sts("default", "test-sts", 9), &host)
        .expect("old chain still runs");
    assert_eq!(outcome.trace[0].policy, "before");

    for (t, worker) in workers.into_iter().enumerate() {
        let names = worker.join().expect("worker evaluated without failing");
        let first_after = names
            .iter()
            .position(|n| n == "after")
            .expect("saw the swap");
        assert!(first_after >= RUNS_EACH_SIDE, "thread {t}");
        assert!(
            names[first_after..].iter().all(|n| n == "after"),
            "thread {t} went back to the old chain: {names:?}"
        );
    }
    let outcome = handle
        .run(sts("default", "test-sts", 0), &host)
        .expect("runs");
    assert_eq!(outcome.trace[0].policy, "after");
}

#[test]
fn runs_share_no_state() {
    let chain = load(&[builtin("isolated", "sticky-statefulset", json!({}))]);
    let holder = held(&[binding("test-ippool", "10.6.168.107")]);
    let nobody = TestHost::default();
    let a = sts("default", "test-sts", 0);
    let b = stateless();
    let first_a = run(&chain, &a, &holder).expect("runs");
    let first_b = run(&chain, &b, &nobody).expect("runs");
    // Interleaved, repeated: every run answers as if it were the first.
    for _ in 0..5 {
        assert_eq!(run(&chain, &b, &nobody).expect("runs"), first_b);
        assert_eq!(run(&chain, &a, &holder).expect("runs"), first_a);
        assert_eq!(run(&chain, &a, &nobody).expect("runs").picked, None);
    }
}

#[test]
fn metrics_count_runs_and_latency() {
    let chain = load(&[builtin("measured", "sticky-statefulset", json!({}))]);
    let before = runtime().metrics();
    for _ in 0..10 {
        run(&chain, &sts("default", "test-sts", 0), &TestHost::default()).expect("runs");
    }
    let after = runtime().metrics();
    assert!(after.runs >= before.runs + 10);
    assert!(after.latency.count >= before.latency.count + 10);
    assert_eq!(
        after.latency.cumulative.len(),
        after.latency.bounds_micros.len()
    );
    assert!(after.latency.cumulative.windows(2).all(|w| w[0] <= w[1]));
    let measured = after.policy("measured").expect("listed");
    // Two calls per run (identify, evaluate); none failed.
    assert_eq!(measured.calls, 20);
    assert!(measured.errors.iter().all(|(_, n)| *n == 0));
}

#[test]
fn the_deadline_outlives_the_runtime_handle() {
    // The epoch ticker belongs to everything that can run a guest: a chain
    // kept after its Runtime handle is dropped still stops a runaway guest.
    let runtime = Runtime::new(RuntimeLimits::default()).expect("runtime starts");
    let chain = runtime
        .load_chain(&[hostile("loop", "infinite-loop", FailurePolicy::Fail)])
        .expect("loads");
    drop(runtime);
    let (_, error, _) = failure_of(run(&chain, &stateless(), &TestHost::default()));
    assert_eq!(error.kind, PolicyErrorKind::Timeout);
}
