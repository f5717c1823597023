//! What the policy does, as tables of examples. Its native tests run them
//! through the SDK harness; the policy runtime's tests run the same tables
//! through the Wasm build (the `examples` feature), so both builds are held
//! to one list.

use berth_policy_sdk::harness::{binding, candidate, pool, RequestBuilder};
use berth_policy_sdk::{Binding, Decision, Identity, IpFamily, Request, Retention};

/// Settings (JSON; empty for none), a request, and the identity stated.
pub struct IdentifyExample {
    pub name: &'static str,
    pub settings: &'static str,
    pub request: Request,
    pub want: Option<Identity>,
}

/// Settings, a request, what its identity holds, and the decision.
pub struct EvaluateExample {
    pub name: &'static str,
    pub settings: &'static str,
    pub request: Request,
    pub bindings: Vec<Binding>,
    pub want: Decision,
}

/// Settings the policy refuses, and a part of the message (naming the field).
pub const BAD_SETTINGS: &[(&str, &str)] = &[
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

/// A StatefulSet pod of the seed scenario's pool.
pub fn sts(ns: &str, name: &str, ordinal: u32) -> Request {
    RequestBuilder::seed_pool()
        .namespace(ns)
        .stateful_set(name, ordinal)
        .build()
}

fn keep(hold: u64) -> Retention {
    Retention::KeepUntilRetired(hold)
}

fn identity(key: &str, retention: Retention) -> Option<Identity> {
    Some(Identity {
        key: key.into(),
        retention,
    })
}

pub fn identify_examples() -> Vec<IdentifyExample> {
    let deploy = RequestBuilder::new()
        .pod_name("web-7d9f-abcde")
        .owner("ReplicaSet", "web-7d9f")
        .build();
    let bare = RequestBuilder::new().pod_name("test-sts-5").build();
    let case = |name, settings, request, want| IdentifyExample {
        name,
        settings,
        request,
        want,
    };
    vec![
        case(
            "default settings",
            "",
            sts("default", "test-sts", 0),
            identity("default/test-sts/0", keep(0)),
        ),
        case(
            "null settings",
            "null",
            sts("prod", "db", 12),
            identity("prod/db/12", keep(0)),
        ),
        case(
            "hold duration",
            r#"{"holdAfterScaleDown": "10m"}"#,
            sts("default", "test-sts", 2),
            identity("default/test-sts/2", keep(600)),
        ),
        case(
            "hold seconds",
            r#"{"holdAfterScaleDown": 30}"#,
            sts("default", "test-sts", 2),
            identity("default/test-sts/2", keep(30)),
        ),
        case(
            "disabled",
            r#"{"statefulSets": false}"#,
            sts("default", "test-sts", 0),
            None,
        ),
        case("deployment", "", deploy.clone(), None),
        case("bare pod", "", bare.clone(), None),
        case(
            "owner rule",
            r#"{"stableIdentities": [{"ownerKind": "ReplicaSet"}]}"#,
            deploy.clone(),
            identity("default/ReplicaSet/web-7d9f/web-7d9f-abcde", keep(0)),
        ),
        case(
            "owner rule, other kind",
            r#"{"stableIdentities": [{"ownerKind": "Job"}]}"#,
            deploy.clone(),
            None,
        ),
        case(
            "name rule with retain",
            r#"{"stableIdentities": [{"podNamePattern": "test-sts-*", "retainSecs": "1h"}]}"#,
            bare.clone(),
            identity("default/test-sts-5", Retention::KeepForSecs(3600)),
        ),
        case(
            "name rule, no match",
            r#"{"stableIdentities": [{"podNamePattern": "db-*"}]}"#,
            bare,
            None,
        ),
        case(
            "disabled sts falls to name rule",
            r#"{"statefulSets": false, "stableIdentities": [{"podNamePattern": "test-sts-*"}]}"#,
            sts("default", "test-sts", 1),
            identity("default/test-sts-1", keep(0)),
        ),
        case(
            "sts wins over rules",
            r#"{"stableIdentities": [{"podNamePattern": "*"}]}"#,
            sts("default", "test-sts", 1),
            identity("default/test-sts/1", keep(0)),
        ),
        case(
            "first rule wins",
            r#"{"stableIdentities": [{"podNamePattern": "web-*", "retainSecs": 5}, {"ownerKind": "ReplicaSet"}]}"#,
            deploy,
            identity("default/web-7d9f-abcde", Retention::KeepForSecs(5)),
        ),
    ]
}

pub fn evaluate_examples() -> Vec<EvaluateExample> {
    let held = binding("test-ippool", "10.6.168.107");
    let mut other_if = held.clone();
    other_if.interface = "net1".into();
    let mut v6 = binding("test-ippool", "fd00::7");
    v6.family = IpFamily::V6;
    let old_pool = binding("old-pool", "10.9.0.5");
    let hold = Decision::Pick(candidate("test-ippool", "10.6.168.107"));
    let sts0 = || sts("default", "test-sts", 0);
    let case = |name, settings, request, bindings, want| EvaluateExample {
        name,
        settings,
        request,
        bindings,
        want,
    };
    vec![
        case(
            "re-created pod keeps its address",
            "",
            sts0(),
            vec![held.clone()],
            hold.clone(),
        ),
        case(
            "first start abstains",
            "",
            sts0(),
            vec![],
            Decision::Abstain,
        ),
        case(
            "pool changed: abstain, host frees old",
            "",
            sts0(),
            vec![old_pool],
            Decision::Abstain,
        ),
        case(
            "other interface's binding",
            "",
            sts0(),
            vec![other_if],
            Decision::Abstain,
        ),
        case(
            "other family's binding",
            "",
            sts0(),
            vec![v6],
            Decision::Abstain,
        ),
        case(
            "disabled is stateless",
            r#"{"statefulSets": false}"#,
            sts0(),
            vec![held.clone()],
            Decision::Abstain,
        ),
        case(
            "deployment abstains",
            "",
            RequestBuilder::seed_pool()
                .pod_name("web-7d9f-abcde")
                .owner("ReplicaSet", "web-7d9f")
                .build(),
            vec![held.clone()],
            Decision::Abstain,
        ),
        case(
            "stable name rule picks",
            r#"{"stableIdentities": [{"podNamePattern": "lab-*"}]}"#,
            RequestBuilder::new()
                .pod_name("lab-1")
                .pools(vec![pool("test-ippool", "10.6.0.0/16")])
                .build(),
            vec![held],
            hold,
        ),
    ]
}
