//! A Python or JavaScript policy that raises reports why: the trap alone
//! says `unreachable`, the guest's stderr (where componentize-py prints
//! the traceback and componentize-js the thrown error) says what went
//! wrong, and the host quotes its end in the error it returns and logs.

mod support;

use berth_core::chain::{ChainError, FailurePolicy, PolicyErrorKind};
use berth_policy_runtime::PolicyConfig;
use berth_wasm_build::foreign::Language;
use support::*;

fn failure_of(language: Language, source: &str) -> (PolicyErrorKind, String) {
    let config = PolicyConfig::bytes("raises", foreign(language, source))
        .with_failure_policy(FailurePolicy::Fail);
    let chain = load(&[config]);
    // Twice through the same chain: each run gets a fresh instance and a
    // fresh stderr, so the second message is the second run's alone.
    let mut messages = Vec::new();
    for name in ["first", "second"] {
        let mut request = stateless();
        request.pod_name = format!("{name}-pod");
        match run(&chain, &request, &TestHost::default()) {
            Err(ChainError::Failed { error, .. }) => messages.push((error.kind, error.message)),
            other => panic!("{source}: expected a failure, got {other:?}"),
        }
    }
    let (kind, second) = messages.pop().expect("two runs");
    let (_, first) = messages.pop().expect("two runs");
    assert!(first.contains("first-pod"), "{first}");
    assert!(
        !second.contains("first-pod"),
        "stderr leaked between runs: {second}"
    );
    (kind, second)
}

#[test]
fn a_python_exception_reaches_the_error() {
    let (kind, message) = failure_of(Language::Python, "tests/wasm-fixtures/python/raises");
    eprintln!("{message}");
    assert_eq!(kind, PolicyErrorKind::Trap);
    assert!(
        message.contains("KeyError: 'no pool for second-pod'"),
        "{message}"
    );
}

#[test]
fn a_javascript_error_reaches_the_error() {
    let (kind, message) = failure_of(Language::JavaScript, "tests/wasm-fixtures/js/raises.js");
    eprintln!("{message}");
    assert_eq!(kind, PolicyErrorKind::Trap);
    assert!(message.contains("no pool for second-pod"), "{message}");
}
