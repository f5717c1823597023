//! Table-driven tests through the SDK harness, phases as the host runs them.

use super::*;
use berth_policy_sdk::harness::{
    assert_settings_refused, binding, candidate, pool, Harness, RequestBuilder,
};
use berth_policy_sdk::{Binding, IpFamily};

fn harness(settings: &str) -> Harness<StickyStatefulSet> {
    Harness::new(settings).unwrap()
}

fn sts(ns: &str, name: &str, ordinal: u32) -> Request {
    RequestBuilder::seed_pool()
        .namespace(ns)
        .stateful_set(name, ordinal)
        .build()
}

type IdentifyCase = (
    &'static str,
    &'static str,
    Request,
    Option<(&'static str, Retention)>,
);
type EvaluateCase = (&'static str, &'static str, Request, Vec<Binding>, Decision);

fn keep(hold: u64) -> Retention {
    Retention::KeepUntilRetired(hold)
}

#[test]
fn identify_table() {
    let deploy = RequestBuilder::new()
        .pod_name("web-7d9f-abcde")
        .owner("ReplicaSet", "web-7d9f")
        .build();
    let bare = RequestBuilder::new().pod_name("test-sts-5").build();
    let cases: &[IdentifyCase] = &[
        (
            "default settings",
            "",
            sts("default", "test-sts", 0),
            Some(("default/test-sts/0", keep(0))),
        ),
        (
            "null settings",
            "null",
            sts("prod", "db", 12),
            Some(("prod/db/12", keep(0))),
        ),
        (
            "hold duration",
            r#"{"holdAfterScaleDown": "10m"}"#,
            sts("default", "test-sts", 2),
            Some(("default/test-sts/2", keep(600))),
        ),
        (
            "hold seconds",
            r#"{"holdAfterScaleDown": 30}"#,
            sts("default", "test-sts", 2),
            Some(("default/test-sts/2", keep(30))),
        ),
        (
            "disabled",
            r#"{"statefulSets": false}"#,
            sts("default", "test-sts", 0),
            None,
        ),
        ("deployment", "", deploy.clone(), None),
        ("bare pod", "", bare.clone(), None),
        (
            "owner rule",
            r#"{"stableIdentities": [{"ownerKind": "ReplicaSet"}]}"#,
            deploy.clone(),
            Some(("default/ReplicaSet/web-7d9f/web-7d9f-abcde", keep(0))),
        ),
        (
            "owner rule, other kind",
            r#"{"stableIdentities": [{"ownerKind": "Job"}]}"#,
            deploy.clone(),
            None,
        ),
        (
            "name rule with retain",
            r#"{"stableIdentities": [{"podNamePattern": "test-sts-*", "retainSecs": "1h"}]}"#,
            bare.clone(),
            Some(("default/test-sts-5", Retention::KeepForSecs(3600))),
        ),
        (
            "name rule, no match",
            r#"{"stableIdentities": [{"podNamePattern": "db-*"}]}"#,
            bare.clone(),
            None,
        ),
        (
            "disabled sts falls to name rule",
            r#"{"statefulSets": false, "stableIdentities": [{"podNamePattern": "test-sts-*"}]}"#,
            sts("default", "test-sts", 1),
            Some(("default/test-sts-1", keep(0))),
        ),
        (
            "sts wins over rules",
            r#"{"stableIdentities": [{"podNamePattern": "*"}]}"#,
            sts("default", "test-sts", 1),
            Some(("default/test-sts/1", keep(0))),
        ),
        (
            "first rule wins",
            r#"{"stableIdentities": [{"podNamePattern": "web-*", "retainSecs": 5}, {"ownerKind": "ReplicaSet"}]}"#,
            deploy,
            Some(("default/web-7d9f-abcde", Retention::KeepForSecs(5))),
        ),
    ];
    for (name, settings, request, want) in cases {
        let got = harness(settings).identify(request);
        let want = want.map(|(key, retention)| Identity {
            key: key.into(),
            retention,
        });
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn evaluate_table() {
    let held = binding("test-ippool", "10.6.168.107");
    let mut other_if = held.clone();
    other_if.interface = "net1".into();
    let mut v6 = binding("test-ippool", "fd00::7");
    v6.family = IpFamily::V6;
    let old_pool = binding("old-pool", "10.9.0.5");
    let hold = candidate("test-ippool", "10.6.168.107");
    let cases: &[EvaluateCase] = &[
        (
            "re-created pod keeps its address",
            "",
            sts("default", "test-sts", 0),
            vec![held.clone()],
            Decision::Pick(hold.clone()),
        ),
        (
            "first start abstains",
            "",
            sts("default", "test-sts", 0),
            vec![],
            Decision::Abstain,
        ),
        (
            "pool changed: abstain, host frees old",
            "",
            sts("default", "test-sts", 0),
            vec![old_pool],
            Decision::Abstain,
        ),
        (
            "other interface's binding",
            "",
            sts("default", "test-sts", 0),
            vec![other_if],
            Decision::Abstain,
        ),
        (
            "other family's binding",
            "",
            sts("default", "test-sts", 0),
            vec![v6],
            Decision::Abstain,
        ),
        (
            "disabled is stateless",
            r#"{"statefulSets": false}"#,
            sts("default", "test-sts", 0),
            vec![held.clone()],
            Decision::Abstain,
        ),
        (
            "deployment abstains",
            "",
            RequestBuilder::new().owner("ReplicaSet", "x").build(),
            vec![held.clone()],
            Decision::Abstain,
        ),
        (
            "stable name rule picks",
            r#"{"stableIdentities": [{"podNamePattern": "lab-*"}]}"#,
            RequestBuilder::new()
                .pod_name("lab-1")
                .pools(vec![pool("test-ippool", "10.6.0.0/16")])
                .build(),
            vec![held.clone()],
            Decision::Pick(hold.clone()),
        ),
    ];
    for (name, settings, request, bindings, want) in cases {
        let (_, got) = harness(settings).run(request, bindings);
        assert_eq!(got, *want, "{name}");
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
    let cases = [
        (
            r#"{"holdAfterScaleDown": "soon"}"#,
            "settings.holdAfterScaleDown: invalid duration",
        ),
        (
            r#"{"holdAfterScaleDown": -1}"#,
            "settings.holdAfterScaleDown: expected a duration",
        ),
        (r#"{"statefulSet": true}"#, "unknown field `statefulSet`"),
        (
            r#"{"statefulSets": "yes"}"#,
            "settings.statefulSets: invalid type",
        ),
        (
            r#"{"stableIdentities": [{}]}"#,
            "stableIdentities[0]: needs a non-empty ownerKind or podNamePattern",
        ),
        (
            r#"{"stableIdentities": [{"ownerKind": ""}]}"#,
            "needs a non-empty",
        ),
        (
            r#"{"stableIdentities": [{"ownerKind": "A", "podNamePattern": "b"}]}"#,
            "not both",
        ),
        (
            r#"{"stableIdentities": [{"podNamePatern": "b"}]}"#,
            "unknown field `podNamePatern`",
        ),
        ("3", "settings: invalid type"),
        ("[1]", "settings[0]: invalid type"),
    ];
    for (settings, want) in cases {
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
