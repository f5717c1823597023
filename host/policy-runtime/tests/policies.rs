//! The built-in policies, run as Wasm components through the real runtime,
//! on the same tables as their native tests, and compared against the
//! native build of the same policy run through the same chain semantics.

mod support;

use berth_core::chain::{
    run_chain, ChainOutcome, FailurePolicy, PolicyError, PolicyErrorKind, PolicyStep,
};
use berth_policy_runtime::LoadError;
use berth_policy_sdk::harness::{binding, candidate, pool, RequestBuilder};
use berth_policy_sdk::{
    Binding, Decision, DynPolicy, Identity, IpFamily, Native, Request, Retention,
};
use serde_json::{json, Value};
use sticky_statefulset::StickyStatefulSet;
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

fn keep(hold: u64) -> Retention {
    Retention::KeepUntilRetired(hold)
}

#[test]
fn sticky_identify_table() {
    let deploy = RequestBuilder::new()
        .pod_name("web-7d9f-abcde")
        .owner("ReplicaSet", "web-7d9f")
        .build();
    let bare = RequestBuilder::new().pod_name("test-sts-5").build();
    type Case = (
        &'static str,
        Value,
        Request,
        Option<(&'static str, Retention)>,
    );
    let cases: Vec<Case> = vec![
        (
            "default settings",
            json!({}),
            sts("default", "test-sts", 0),
            Some(("default/test-sts/0", keep(0))),
        ),
        (
            "null settings",
            Value::Null,
            sts("prod", "db", 12),
            Some(("prod/db/12", keep(0))),
        ),
        (
            "hold duration",
            json!({"holdAfterScaleDown": "10m"}),
            sts("default", "test-sts", 2),
            Some(("default/test-sts/2", keep(600))),
        ),
        (
            "hold seconds",
            json!({"holdAfterScaleDown": 30}),
            sts("default", "test-sts", 2),
            Some(("default/test-sts/2", keep(30))),
        ),
        (
            "disabled",
            json!({"statefulSets": false}),
            sts("default", "test-sts", 0),
            None,
        ),
        ("deployment", json!({}), deploy.clone(), None),
        ("bare pod", json!({}), bare.clone(), None),
        (
            "owner rule",
            json!({"stableIdentities": [{"ownerKind": "ReplicaSet"}]}),
            deploy.clone(),
            Some(("default/ReplicaSet/web-7d9f/web-7d9f-abcde", keep(0))),
        ),
        (
            "owner rule, other kind",
            json!({"stableIdentities": [{"ownerKind": "Job"}]}),
            deploy.clone(),
            None,
        ),
        (
            "name rule with retain",
            json!({"stableIdentities": [{"podNamePattern": "test-sts-*", "retainSecs": "1h"}]}),
            bare.clone(),
            Some(("default/test-sts-5", Retention::KeepForSecs(3600))),
        ),
        (
            "name rule, no match",
            json!({"stableIdentities": [{"podNamePattern": "db-*"}]}),
            bare,
            None,
        ),
        (
            "disabled sts falls to name rule",
            json!({"statefulSets": false, "stableIdentities": [{"podNamePattern": "test-sts-*"}]}),
            sts("default", "test-sts", 1),
            Some(("default/test-sts-1", keep(0))),
        ),
        (
            "sts wins over rules",
            json!({"stableIdentities": [{"podNamePattern": "*"}]}),
            sts("default", "test-sts", 1),
            Some(("default/test-sts/1", keep(0))),
        ),
        (
            "first rule wins",
            json!({"stableIdentities": [{"podNamePattern": "web-*", "retainSecs": 5}, {"ownerKind": "ReplicaSet"}]}),
            deploy,
            Some(("default/web-7d9f-abcde", Retention::KeepForSecs(5))),
        ),
    ];
    for (name, settings, request, want) in cases {
        let outcome = sticky(&settings, &request, &[]);
        let want = want.map(|(key, retention)| Identity {
            key: key.into(),
            retention,
        });
        assert_eq!(outcome.identity, want, "{name}");
    }
}

#[test]
fn sticky_evaluate_table() {
    let held = binding("test-ippool", "10.6.168.107");
    let mut other_if = held.clone();
    other_if.interface = "net1".into();
    let mut v6 = binding("test-ippool", "fd00::7");
    v6.family = IpFamily::V6;
    let old_pool = binding("old-pool", "10.9.0.5");
    let hold = candidate("test-ippool", "10.6.168.107");
    let cases: Vec<(&str, Value, Request, Vec<Binding>, Decision)> = vec![
        (
            "re-created pod keeps its address",
            json!({}),
            sts("default", "test-sts", 0),
            vec![held.clone()],
            Decision::Pick(hold.clone()),
        ),
        (
            "first start abstains",
            json!({}),
            sts("default", "test-sts", 0),
            vec![],
            Decision::Abstain,
        ),
        (
            "pool changed: abstain, host frees old",
            json!({}),
            sts("default", "test-sts", 0),
            vec![old_pool],
            Decision::Abstain,
        ),
        (
            "other interface's binding",
            json!({}),
            sts("default", "test-sts", 0),
            vec![other_if],
            Decision::Abstain,
        ),
        (
            "other family's binding",
            json!({}),
            sts("default", "test-sts", 0),
            vec![v6],
            Decision::Abstain,
        ),
        (
            "disabled is stateless",
            json!({"statefulSets": false}),
            sts("default", "test-sts", 0),
            vec![held.clone()],
            Decision::Abstain,
        ),
        (
            "deployment abstains",
            json!({}),
            stateless(),
            vec![held.clone()],
            Decision::Abstain,
        ),
        (
            "stable name rule picks",
            json!({"stableIdentities": [{"podNamePattern": "lab-*"}]}),
            RequestBuilder::new()
                .pod_name("lab-1")
                .pools(vec![pool("test-ippool", "10.6.0.0/16")])
                .build(),
            vec![held.clone()],
            Decision::Pick(hold.clone()),
        ),
    ];
    for (name, settings, request, bindings, want) in cases {
        let outcome = sticky(&settings, &request, &bindings);
        assert_eq!(decision_of(&outcome, "sticky"), want, "{name}");
        if let Decision::Pick(picked) = &want {
            assert_eq!(outcome.picked.as_ref(), Some(picked), "{name}");
        }
    }
}

#[test]
fn sticky_bad_settings_refuse_the_chain_naming_the_field() {
    let cases = [
        (
            json!({"holdAfterScaleDown": "soon"}),
            "settings.holdAfterScaleDown: invalid duration",
        ),
        (
            json!({"holdAfterScaleDown": -1}),
            "settings.holdAfterScaleDown: expected a duration",
        ),
        (json!({"statefulSet": true}), "unknown field `statefulSet`"),
        (
            json!({"statefulSets": "yes"}),
            "settings.statefulSets: invalid type",
        ),
        (
            json!({"stableIdentities": [{}]}),
            "stableIdentities[0]: needs a non-empty ownerKind or podNamePattern",
        ),
        (
            json!({"stableIdentities": [{"ownerKind": ""}]}),
            "needs a non-empty",
        ),
        (
            json!({"stableIdentities": [{"ownerKind": "A", "podNamePattern": "b"}]}),
            "not both",
        ),
        (
            json!({"stableIdentities": [{"podNamePatern": "b"}]}),
            "unknown field `podNamePatern`",
        ),
        (json!(3), "settings: invalid type"),
        (json!([1]), "settings[0]: invalid type"),
    ];
    for (settings, want) in cases {
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
