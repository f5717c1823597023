//! Table-driven tests through the SDK harness, phases as the host runs them.

use super::*;
use berth_policy_sdk::harness::{assert_settings_refused, binding, Harness};

fn harness(settings: &str) -> Harness<StickyStatefulSet> {
    Harness::new(settings).unwrap()
}

use examples::sts;

fn keep(hold: u64) -> Retention {
    Retention::KeepUntilRetired(hold)
}

#[test]
fn identify_table() {
    for example in examples::identify_examples() {
        let got = harness(example.settings).identify(&example.request);
        assert_eq!(got, example.want, "{}", example.name);
    }
}

#[test]
fn evaluate_table() {
    for example in examples::evaluate_examples() {
        let (_, got) = harness(example.settings).run(&example.request, &example.bindings);
        assert_eq!(got, example.want, "{}", example.name);
    }
}

#[test]
fn evaluate_abstains_for_a_foreign_identity() {
    let mut request = sts("default", "test-sts", 0);
    request.identity = Some(Identity {
        key: "someone/else".into(),
        retention: keep(0),
    });
    request.bindings = vec![binding("test-ippool", "10.6.168.101")];
    assert_eq!(harness("").evaluate(&request), Decision::Abstain);
}

#[test]
fn evaluate_abstains_when_the_held_address_was_narrowed_away() {
    let mut request = sts("default", "test-sts", 0);
    request.identity = harness("").identify(&request);
    request.bindings = vec![binding("test-ippool", "10.6.168.199")];
    assert_eq!(harness("").evaluate(&request), Decision::Abstain);
}

#[test]
fn bad_settings_are_refused_with_the_field_named() {
    for (settings, want) in examples::BAD_SETTINGS {
        assert_settings_refused::<StickyStatefulSet>(settings, want);
    }
}

#[test]
fn unvalidated_bad_settings_reject_in_evaluate() {
    let h = Harness::<StickyStatefulSet>::unvalidated(r#"{"holdAfterScaleDown": "soon"}"#);
    let request = sts("default", "test-sts", 0);
    assert_eq!(h.identify(&request), None);
    match h.evaluate(&request) {
        Decision::Reject(reason) => assert!(reason.starts_with("invalid settings: "), "{reason}"),
        other => panic!("expected a reject, got {other:?}"),
    }
}
