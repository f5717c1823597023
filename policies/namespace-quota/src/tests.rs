use super::*;
use berth_policy_sdk::harness::{
    assert_decision, assert_settings_refused, binding, pool, Harness, RequestBuilder,
};
use berth_policy_sdk::{Binding, Identity, Retention};

fn used(name: &str, n: u64) -> Pool {
    let mut p = pool(name, "10.0.0.0/24");
    p.namespace_used = n;
    p
}

fn request(ns: &str, pools: Vec<Pool>, held: Vec<Binding>) -> Request {
    let mut b = RequestBuilder::new()
        .namespace(ns)
        .pools(pools)
        .bindings(held);
    b = b.identity(Identity {
        key: format!("{ns}/web/0"),
        retention: Retention::KeepUntilRetired(0),
    });
    b.build()
}

fn restrict(names: &[&str]) -> Decision {
    Decision::RestrictPools(names.iter().map(|n| (*n).to_owned()).collect())
}

#[test]
fn evaluate_table() {
    let mut net1 = binding("a", "10.0.0.5");
    net1.interface = "net1".into();
    let cases: Vec<(&str, &str, Request, Result<Decision, &str>)> = vec![
        (
            "under quota",
            r#"{"maxPerPool": 3}"#,
            request("default", vec![used("a", 2)], vec![]),
            Ok(Decision::Abstain),
        ),
        (
            "at quota, only pool",
            r#"{"maxPerPool": 3}"#,
            request("default", vec![used("a", 3)], vec![]),
            Err("namespace default already holds 3 of 3 allowed addresses in pool a"),
        ),
        (
            "over quota, two pools",
            r#"{"maxPerPool": 1}"#,
            request("default", vec![used("a", 4), used("b", 1)], vec![]),
            Err("in pool a; namespace default already holds 1 of 1 allowed addresses in pool b"),
        ),
        (
            "full pool dropped, order kept",
            r#"{"maxPerPool": 2}"#,
            request(
                "default",
                vec![used("c", 0), used("a", 2), used("b", 1)],
                vec![],
            ),
            Ok(restrict(&["c", "b"])),
        ),
        (
            "namespace override tighter",
            r#"{"maxPerPool": 10, "namespaces": {"batch": 1}}"#,
            request("batch", vec![used("a", 1), used("b", 0)], vec![]),
            Ok(restrict(&["b"])),
        ),
        (
            "namespace override looser",
            r#"{"maxPerPool": 1, "namespaces": {"batch": 5}}"#,
            request("batch", vec![used("a", 4)], vec![]),
            Ok(Decision::Abstain),
        ),
        (
            "only overrides, other ns unlimited",
            r#"{"namespaces": {"batch": 1}}"#,
            request("default", vec![used("a", 100)], vec![]),
            Ok(Decision::Abstain),
        ),
        (
            "pool filter",
            r#"{"maxPerPool": 1, "pools": ["a"]}"#,
            request("default", vec![used("a", 1), used("b", 9)], vec![]),
            Ok(restrict(&["b"])),
        ),
        (
            "zero quota",
            r#"{"maxPerPool": 0}"#,
            request("default", vec![used("a", 0)], vec![]),
            Err("holds 0 of 0 allowed addresses in pool a"),
        ),
        (
            "retained binding is reuse",
            r#"{"maxPerPool": 2}"#,
            request(
                "default",
                vec![used("a", 2)],
                vec![binding("a", "10.0.0.5")],
            ),
            Ok(Decision::Abstain),
        ),
        (
            "reuse only unblocks its pool",
            r#"{"maxPerPool": 2}"#,
            request(
                "default",
                vec![used("a", 2), used("b", 2)],
                vec![binding("b", "10.0.0.5")],
            ),
            Ok(restrict(&["b"])),
        ),
        (
            "binding of another interface is no reuse",
            r#"{"maxPerPool": 2}"#,
            request("default", vec![used("a", 2)], vec![net1]),
            Err("holds 2 of 2"),
        ),
    ];
    for (name, settings, request, want) in cases {
        let got = Harness::<NamespaceQuota>::new(settings)
            .unwrap()
            .evaluate(&request);
        assert_decision(name, got, want);
    }
}

#[test]
fn validate_table() {
    let cases = [
        ("", "set maxPerPool or namespaces"),
        ("{}", "set maxPerPool or namespaces"),
        (
            r#"{"maxPerPool": -1}"#,
            "settings.maxPerPool: invalid value",
        ),
        (
            r#"{"maxPerPool": 1, "pools": [""]}"#,
            "pools: names must not be empty",
        ),
        (
            r#"{"namespaces": {"": 1}}"#,
            "namespaces: names must not be empty",
        ),
        (
            r#"{"namespaces": {"a": "x"}}"#,
            "settings.namespaces.a: invalid type",
        ),
        (
            r#"{"maxPerPool": 1, "perPool": 2}"#,
            "unknown field `perPool`",
        ),
    ];
    for (settings, want) in cases {
        assert_settings_refused::<NamespaceQuota>(settings, want);
    }
}
