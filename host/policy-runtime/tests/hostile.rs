//! Hostile guests (tests/wasm-fixtures) are contained: each misbehaviour
//! maps to its error kind, the host keeps serving, and the chain's
//! failurePolicy decides what the request sees.

mod support;

use berth_core::chain::{ChainError, FailurePolicy, Phase, PolicyErrorKind, StepOutcome};
use berth_policy_runtime::{LoadError, PolicyConfig, Runtime, RuntimeLimits, LOG_TARGET};
use berth_policy_sdk::Decision;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

fn failing(fixture: &str, name: &str) -> (String, berth_core::chain::PolicyError, usize) {
    let chain = load(&[hostile(name, fixture, FailurePolicy::Fail)]);
    failure_of(run(
        &chain,
        &sts("default", "test-sts", 0),
        &TestHost::default(),
    ))
}

#[test]
fn infinite_loop_times_out() {
    let limits = RuntimeLimits::default();
    let chain = load(&[hostile("loop", "infinite-loop", FailurePolicy::Fail)]);
    let started = std::time::Instant::now();
    let outcome = run(&chain, &sts("default", "test-sts", 0), &TestHost::default());
    let stopped_after = started.elapsed();
    let (policy, error, _) = failure_of(outcome);
    assert_eq!(policy, "loop");
    assert_eq!(error.kind, PolicyErrorKind::Timeout, "{error}");
    assert!(error.message.contains("evaluate"), "{error}");
    let budget = format!("{} ms of CPU time", limits.call_cpu_max.as_millis());
    assert!(error.message.contains(&budget), "{error}");
    // The budget, not something far later, stopped it. Not a speed check:
    // the wall deadline is the backstop on a machine too loaded to give
    // the loop its CPU budget, and the slack absorbs scheduling.
    let backstop = limits.call_wall_max + Duration::from_secs(10);
    assert!(
        stopped_after < backstop,
        "the loop ran {stopped_after:?}, past the {backstop:?} backstop"
    );
}

#[test]
fn memory_bomb_is_out_of_memory_and_the_host_survives() {
    let (_, error, _) = failing("memory-bomb", "bomb");
    assert_eq!(error.kind, PolicyErrorKind::OutOfMemory, "{error}");
    // The slot went back to the pool clean: the bomb goes off the same way
    // again, and a healthy chain still runs.
    let (_, again, _) = failing("memory-bomb", "bomb");
    assert_eq!(again.kind, PolicyErrorKind::OutOfMemory, "{again}");
    let chain = load(&[builtin("sticky", "sticky-statefulset", json!({}))]);
    let outcome = run(&chain, &sts("default", "test-sts", 0), &TestHost::default()).expect("runs");
    assert_eq!(decision_of(&outcome, "sticky"), Decision::Abstain);
}

#[test]
fn trap_is_a_trap() {
    let (_, error, _) = failing("trap", "trap");
    assert_eq!(error.kind, PolicyErrorKind::Trap, "{error}");
    // The SDK's panic hook logged the panic's message through the host
    // before the trap, and the error carries it.
    assert!(
        error
            .message
            .contains("hostile-trap panics on purpose for test-sts-0"),
        "{error}"
    );
}

#[test]
fn a_guest_with_the_filesystem_sees_no_files() {
    // `wasi:filesystem` is allowed (componentize-py imports it whatever
    // the policy does) but nothing is preopened: the read fails inside
    // the guest, which reports the failure instead of the host's file.
    let chain = load(&[hostile("fs", "imports-filesystem", FailurePolicy::Fail)]);
    let result = run(&chain, &sts("default", "test-sts", 0), &TestHost::default());
    match result {
        Err(ChainError::Rejected { policy, reason, .. }) => {
            assert_eq!(policy, "fs");
            assert!(
                reason.starts_with("could not read the host's file"),
                "{reason}"
            );
        }
        other => panic!("expected the guest to report a failed read, got {other:?}"),
    }
}

/// A component header, then one import section declaring `name` as an
/// instance of type 0, then bytes that are no WebAssembly at all.
fn import_then_garbage(name: &str) -> Vec<u8> {
    let mut section = vec![1u8]; // one import
    section.push(0x00); // plain name
    section.push(u8::try_from(name.len()).expect("short name"));
    section.extend_from_slice(name.as_bytes());
    section.extend_from_slice(&[0x05, 0x00]); // instance, type index 0
    let mut bytes = b"\0asm\x0d\x00\x01\x00".to_vec();
    bytes.push(10); // component import section
    bytes.push(u8::try_from(section.len()).expect("short section"));
    bytes.extend_from_slice(&section);
    bytes.extend_from_slice(&[0xff; 64]);
    bytes
}

#[test]
fn a_forbidden_import_is_refused_before_compiling() {
    // What follows the import is garbage: had the module been compiled
    // first, the error would be a compile error.
    for import in [
        "wasi:keyvalue/store@0.2.0",
        "wasi:http/incoming-handler@0.2.6",
        "wasi:cli/run@0.2.6",
        "wasi:filesystem/types@0.3.0",
        "berth:policy/host@0.3.0",
    ] {
        let config = PolicyConfig::bytes("bad", import_then_garbage(import));
        match runtime().load_chain(&[config]) {
            Err(LoadError::ForbiddenImport {
                policy,
                import: got,
            }) => {
                assert_eq!(policy, "bad");
                assert_eq!(got, import);
            }
            other => panic!("{import}: expected a forbidden import, got {other:?}"),
        }
    }
    // An allowed import followed by the same garbage gets to the compiler,
    // which refuses it: the scan alone let it through.
    let config = PolicyConfig::bytes("bad", import_then_garbage("wasi:io/poll@0.2.6"));
    assert!(
        matches!(
            runtime().load_chain(&[config]),
            Err(LoadError::Compile { .. })
        ),
        "garbage after allowed imports is a compile error"
    );
}

#[test]
fn illegal_pick_is_an_invalid_answer() {
    let (_, error, _) = failing("illegal-pick", "picker");
    assert_eq!(error.kind, PolicyErrorKind::InvalidAnswer, "{error}");
}

#[test]
fn bad_identity_is_an_invalid_answer() {
    let (_, error, trace_len) = failing("bad-identity", "bad-id");
    assert_eq!(error.kind, PolicyErrorKind::InvalidAnswer, "{error}");
    assert_eq!(trace_len, 0, "fails in identify, before anything else");
}

#[test]
fn slow_identify_times_out_in_the_identify_phase() {
    let (_, error, trace_len) = failing("slow-identify", "slow");
    assert_eq!(error.kind, PolicyErrorKind::Timeout, "{error}");
    assert!(error.message.contains("identify"), "{error}");
    assert_eq!(trace_len, 0, "nothing ran before identify");

    // Ignored, the trace shows the timeout in identify and the instance is
    // not entered again for evaluate; the error is counted once.
    let chain = load(&[hostile(
        "slow-ignored",
        "slow-identify",
        FailurePolicy::Ignore,
    )]);
    let outcome =
        run(&chain, &sts("default", "test-sts", 0), &TestHost::default()).expect("ignored");
    let kinds: Vec<_> = outcome
        .trace
        .iter()
        .map(|t| match &t.outcome {
            StepOutcome::IgnoredError(e) => (t.phase, Some(e.kind)),
            _ => (t.phase, None),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (Phase::Identify, Some(PolicyErrorKind::Timeout)),
            (Phase::Evaluate, Some(PolicyErrorKind::Timeout)),
        ]
    );
    let metrics = runtime().metrics();
    let slow = metrics.policy("slow-ignored").expect("counted");
    assert_eq!(slow.errors_of(PolicyErrorKind::Timeout), 1);
    assert_eq!(slow.ignored_errors, 1);
    assert_eq!(slow.calls, 1);
}

#[test]
fn ignore_lets_the_chain_continue_and_counts_the_error() {
    let chain = load(&[
        hostile("trap-ignored", "trap", FailurePolicy::Ignore),
        builtin("sticky-after-trap", "sticky-statefulset", json!({})),
    ]);
    let host = held(&[berth_policy_sdk::harness::binding(
        "test-ippool",
        "10.6.168.107",
    )]);
    let before = runtime().metrics();
    let outcome = run(&chain, &sts("default", "test-sts", 0), &host).expect("trap is ignored");
    let picked = outcome.picked.expect("sticky still picks");
    assert_eq!(picked.address, "10.6.168.107");
    let after = runtime().metrics();
    let trap = after.policy("trap-ignored").expect("counted");
    assert_eq!(trap.errors_of(PolicyErrorKind::Trap), 1);
    assert_eq!(trap.ignored_errors, 1);
    assert!(after.runs > before.runs);

    // The same guest with Fail stops the chain, naming it.
    let chain = load(&[
        hostile("trap-failing", "trap", FailurePolicy::Fail),
        builtin("sticky-after-failing-trap", "sticky-statefulset", json!({})),
    ]);
    match run(&chain, &sts("default", "test-sts", 0), &host) {
        Err(ChainError::Failed { policy, error, .. }) => {
            assert_eq!(policy, "trap-failing");
            assert_eq!(error.kind, PolicyErrorKind::Trap);
        }
        other => panic!("expected the chain to fail, got {other:?}"),
    }
    let failing = runtime().metrics();
    let trap = failing.policy("trap-failing").expect("counted");
    assert_eq!(
        (trap.errors_of(PolicyErrorKind::Trap), trap.ignored_errors),
        (1, 0)
    );
}

/// Collects the guest messages emitted under `berth::policy`.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<(tracing::Level, String)>>>);

impl<S: tracing::Subscriber> Layer<S> for Captured {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        struct Message(String);
        impl Visit for Message {
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        if event.metadata().target() == LOG_TARGET {
            let mut message = Message(String::new());
            event.record(&mut message);
            if let Ok(mut events) = self.0.lock() {
                events.push((*event.metadata().level(), message.0));
            }
        }
    }
}

#[test]
fn noisy_logger_completes_with_its_logs_capped() {
    // 10,000 host calls take ~5 us each in a debug build of wasmtime (well
    // under 1 us in release): this test is about the log budget, so it gives
    // the call a CPU budget a debug build cannot exhaust. The bench checks
    // the default budget in release.
    let runtime = Runtime::new(RuntimeLimits {
        call_cpu_max: Duration::from_secs(2),
        ..RuntimeLimits::default()
    })
    .expect("runtime starts");
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry().with(captured.clone());
    let chain = runtime
        .load_chain(&[hostile("noisy", "noisy-logger", FailurePolicy::Fail)])
        .expect("loads");
    let outcome = tracing::subscriber::with_default(subscriber, || {
        run(&chain, &sts("default", "test-sts", 0), &TestHost::default())
    })
    .expect("a noisy policy still answers");
    assert_eq!(decision_of(&outcome, "noisy"), Decision::Abstain);

    let events = captured.0.lock().expect("not poisoned").clone();
    let infos: Vec<_> = events
        .iter()
        .filter(|(l, _)| *l == tracing::Level::INFO)
        .collect();
    let limits = runtime.limits();
    assert_eq!(infos.len(), limits.log_messages_per_call as usize);
    for (_, message) in &infos {
        // Cut to the budget, plus the "…" marker.
        assert!(
            message.len() <= limits.log_message_bytes + 3,
            "{}",
            message.len()
        );
    }
    let warnings = events
        .iter()
        .filter(|(l, _)| *l == tracing::Level::WARN)
        .count();
    assert_eq!(warnings, 1, "one summary of the dropped messages");
    let noisy = runtime.metrics();
    let noisy = noisy.policy("noisy").expect("counted");
    assert_eq!(
        noisy.log_messages_dropped,
        10_000 - u64::from(limits.log_messages_per_call)
    );
}
