use super::*;
use berth_policy_sdk::harness::{
    assert_decision, assert_settings_refused, pool, Harness, RequestBuilder,
};

const SETTINGS: &str = r#"{"rules": [
    {"name": "databases", "selector": {"matchLabels": {"tier": "db"}}, "pools": ["db-b", "db-a"]},
    {"selector": {"matchExpressions": [{"key": "team", "operator": "In", "values": ["red", "blue"]}]}, "pools": ["team"]},
    {"selector": {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, "pools": ["tiered"]}
]}"#;

fn pod(labels: &[(&str, &str)], pools: &[&str]) -> Request {
    let mut b = RequestBuilder::new()
        .pod_name("p")
        .pools(pools.iter().map(|n| pool(n, "10.0.0.0/24")).collect());
    for (k, v) in labels {
        b = b.label(k, v);
    }
    b.build()
}

fn restrict(names: &[&str]) -> Decision {
    Decision::RestrictPools(names.iter().map(|n| (*n).to_owned()).collect())
}

#[test]
fn evaluate_table() {
    let cases: Vec<(&str, Request, Result<Decision, &str>)> = vec![
        ("rule order of pools", pod(&[("tier", "db")], &["db-a", "x", "db-b"]), Ok(restrict(&["db-b", "db-a"]))),
        ("only current pools", pod(&[("tier", "db")], &["db-a", "x"]), Ok(restrict(&["db-a"]))),
        ("first rule wins", pod(&[("tier", "db"), ("team", "red")], &["db-a", "team"]), Ok(restrict(&["db-a"]))),
        ("expression rule", pod(&[("team", "blue")], &["team", "x"]), Ok(restrict(&["team"]))),
        ("later rule", pod(&[("tier", "web")], &["tiered"]), Ok(restrict(&["tiered"]))),
        ("no match", pod(&[("app", "x")], &["x"]), Ok(Decision::Abstain)),
        ("no labels", pod(&[], &["x"]), Ok(Decision::Abstain)),
        ("named rule, no current pool", pod(&[("tier", "db")], &["x", "y"]),
            Err("label-pool rule databases matches default/p but none of its pools (db-b, db-a) is a candidate (candidates: x, y)")),
        ("unnamed rule, no current pool", pod(&[("team", "red")], &[]),
            Err("rule rules[1] matches default/p but none of its pools (team) is a candidate (candidates: none)")),
    ];
    let h = Harness::<LabelPool>::new(SETTINGS).unwrap();
    for (name, request, want) in cases {
        assert_decision(name, h.evaluate(&request), want);
    }
}

#[test]
fn validate_table() {
    let cases = [
        ("", "rules: at least one rule"),
        (
            r#"{"rules": [{"selector": {}, "pools": []}]}"#,
            "rules[0].pools: must not be empty",
        ),
        (
            r#"{"rules": [{"selector": {}, "pools": [""]}]}"#,
            "rules[0].pools[0]: must not be empty",
        ),
        (
            r#"{"rules": [{"selector": {}, "pools": ["a", "a"]}]}"#,
            "a is listed twice",
        ),
        (
            r#"{"rules": [{"selector": {"matchExpressions": [{"key": "k", "operator": "In"}]}, "pools": ["a"]}]}"#,
            "rules[0].selector: matchExpressions[0] (k): In needs at least one value",
        ),
        (
            r#"{"rules": [{"selector": {"matchExpressions": [{"key": "k", "operator": "Has"}]}, "pools": ["a"]}]}"#,
            "settings.rules[0].selector.matchExpressions[0].operator: unknown variant `Has`",
        ),
        (
            r#"{"rules": [{"pools": ["a"]}]}"#,
            "missing field `selector`",
        ),
        (
            r#"{"rules": [{"selector": {}, "pools": ["a"], "pool": "b"}]}"#,
            "unknown field `pool`",
        ),
    ];
    for (settings, want) in cases {
        assert_settings_refused::<LabelPool>(settings, want);
    }
}
