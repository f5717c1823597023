//! A policy cannot make the host wait in real time. It runs while the
//! allocator holds its lock, and its CPU budget only counts while guest
//! code executes, so a guest that sleeps, blocks on a timer or on stdio
//! would hold up every request on the node. The `sleeper` fixture tries
//! each way (10 s timers, a timer at the end of time, stdin, stdout); every
//! call must come back at once.

mod support;

use berth_core::chain::{ChainError, ChainOutcome, FailurePolicy, PolicyErrorKind};
use berth_policy_sdk::Decision;
use serde_json::json;
use std::time::{Duration, Instant};
use support::*;

/// Far below the fixture's 10 s timers, far above an honest call on a
/// loaded debug build: the test is about waiting, not speed.
const AT_ONCE: Duration = Duration::from_secs(1);

/// Runs the sleeper's evaluate with `how`, timing the chain run alone
/// (loading compiles the component, which is not the guest waiting).
fn sleeper(how: &str) -> (Result<ChainOutcome, ChainError>, Duration) {
    let config = hostile(&format!("sleeper-{how}"), "sleeper", FailurePolicy::Fail)
        .with_settings(json!({ "how": how }));
    let chain = load(&[config]);
    let started = Instant::now();
    let result = run(&chain, &sts("default", "test-sts", 0), &TestHost::default());
    let elapsed = started.elapsed();
    eprintln!("sleeper {how}: {elapsed:?}");
    (result, elapsed)
}

/// The call came back at once, and as an answer: waiting is not an error,
/// it just takes no time.
fn returns_at_once(how: &str) {
    let (result, elapsed) = sleeper(how);
    assert!(elapsed < AT_ONCE, "{how} held the host for {elapsed:?}");
    let outcome = result.unwrap_or_else(|e| panic!("{how} should answer: {e:?}"));
    assert_eq!(
        decision_of(&outcome, &format!("sleeper-{how}")),
        Decision::Abstain
    );
}

#[test]
fn std_thread_sleep_returns_at_once() {
    returns_at_once("std-sleep");
}

#[test]
fn blocking_on_a_duration_timer_returns_at_once() {
    returns_at_once("block-duration");
}

#[test]
fn polling_timers_returns_at_once() {
    returns_at_once("poll");
}

#[test]
fn a_timer_at_the_end_of_time_returns_at_once() {
    returns_at_once("forever");
}

#[test]
fn reading_stdin_returns_at_once() {
    returns_at_once("stdin");
}

#[test]
fn writing_stdout_returns_at_once() {
    returns_at_once("stdout");
}

#[test]
fn waiting_for_the_clock_to_move_runs_out_of_cpu() {
    // The guest's monotonic clock is frozen, so a guest that sleeps until
    // time has passed never gets there: it loops, and its CPU budget (not
    // the host's patience) ends the call.
    let (result, elapsed) = sleeper("spin-until");
    let (_, error, _) = failure_of(result);
    assert_eq!(error.kind, PolicyErrorKind::Timeout, "{error}");
    assert!(error.message.contains("CPU time"), "{error}");
    assert!(elapsed < AT_ONCE, "spun for {elapsed:?}");
}
