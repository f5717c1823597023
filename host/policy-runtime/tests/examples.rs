//! ordinal-pinned, namespace-quota and label-pool as Wasm components, on
//! the tables of their native tests, each run compared with the native
//! build through the same chain semantics.

mod support;

use berth_policy_sdk::harness::{binding, candidate, pool, RequestBuilder};
use berth_policy_sdk::{Binding, Decision, DynPolicy, IpFamily, Native, Pool, Request};
use serde_json::{json, Value};
use support::*;

fn ordinal(settings: Value) -> Twin {
    Twin {
        name: "ordinal",
        builtin: "ordinal-pinned",
        settings,
        native: || Box::new(Native::<ordinal_pinned::OrdinalPinned>::new()) as Box<dyn DynPolicy>,
    }
}

fn quota(settings: Value) -> Twin {
    Twin {
        name: "quota",
        builtin: "namespace-quota",
        settings,
        native: || Box::new(Native::<namespace_quota::NamespaceQuota>::new()) as Box<dyn DynPolicy>,
    }
}

fn labels(settings: Value) -> Twin {
    Twin {
        name: "labels",
        builtin: "label-pool",
        settings,
        native: || Box::new(Native::<label_pool::LabelPool>::new()) as Box<dyn DynPolicy>,
    }
}

/// States `namespace/statefulset/ordinal`, so the host hands the chain
/// the identity's bindings (namespace-quota reads them).
fn sticky() -> Twin {
    Twin {
        name: "sticky",
        builtin: "sticky-statefulset",
        settings: json!({}),
        native: || {
            Box::new(Native::<sticky_statefulset::StickyStatefulSet>::new()) as Box<dyn DynPolicy>
        },
    }
}

fn pick(pool: &str, address: &str) -> Result<Decision, &'static str> {
    Ok(Decision::Pick(candidate(pool, address)))
}

fn restrict(names: &[&str]) -> Result<Decision, &'static str> {
    Ok(Decision::RestrictPools(
        names.iter().map(|n| (*n).to_owned()).collect(),
    ))
}

#[test]
fn ordinal_pinned_table() {
    let sts = |name: &str, ordinal: u32| {
        RequestBuilder::new()
            .stateful_set(name, ordinal)
            .pools(vec![
                pool("other", "10.9.0.0/16"),
                pool("test-ippool", "10.6.0.0/16"),
            ])
    };
    let with = |extra: Value| {
        let mut s = json!({"range": "10.6.168.101-10.6.168.110"});
        if let (Some(s), Value::Object(extra)) = (s.as_object_mut(), extra) {
            s.extend(extra);
        }
        s
    };
    let cases: Vec<(&str, Value, Request, Result<Decision, &str>)> = vec![
        ("first ordinal", with(json!({})), sts("test-sts", 0).build(), pick("test-ippool", "10.6.168.101")),
        ("last ordinal", with(json!({})), sts("test-sts", 9).build(), pick("test-ippool", "10.6.168.110")),
        ("past the range", with(json!({})), sts("test-sts", 12).build(),
            Err("ordinal 12 of default/test-sts is past the 10 addresses of 10.6.168.101-10.6.168.110")),
        ("huge ordinal", with(json!({})), sts("test-sts", u32::MAX).build(), Err("is past the 10 addresses")),
        ("filter matches", with(json!({"statefulSets": ["test-sts"]})), sts("test-sts", 1).build(),
            pick("test-ippool", "10.6.168.102")),
        ("filter excludes", with(json!({"statefulSets": ["db"]})), sts("test-sts", 1).build(), Ok(Decision::Abstain)),
        ("not a statefulset", with(json!({})), RequestBuilder::new().build(), Ok(Decision::Abstain)),
        ("named pool", with(json!({"pool": "test-ippool"})), sts("test-sts", 2).build(),
            pick("test-ippool", "10.6.168.103")),
        ("named pool not a candidate", with(json!({"pool": "gone"})), sts("test-sts", 2).build(),
            Err("pool gone is not a candidate for default/test-sts-2 (candidates: other, test-ippool)")),
        ("named pool does not contain it", with(json!({"pool": "other"})), sts("test-sts", 2).build(),
            Err("10.6.168.103 (ordinal 2 of default/test-sts) is outside pool other (10.9.0.0/16)")),
        ("no pool contains it", with(json!({})), sts("test-sts", 0).pools(vec![pool("other", "10.9.0.0/16")]).build(),
            Err("no candidate pool contains 10.6.168.101 (ordinal 0 of default/test-sts; candidates: other)")),
        ("other family abstains", with(json!({})), sts("test-sts", 0).family(IpFamily::V6).build(), Ok(Decision::Abstain)),
        ("ipv6 range", json!({"range": "fd00::10-fd00::1f"}),
            sts("db", 15).family(IpFamily::V6).pools(vec![pool("v6", "fd00::/64")]).build(), pick("v6", "fd00::1f")),
    ];
    // The pinned address is not in the sample: the host must accept it.
    let host = TestHost {
        assign_all: true,
        ..TestHost::default()
    };
    for (name, settings, request, want) in cases {
        let result = compare(&[ordinal(settings)], &request, &host);
        if let Ok(outcome) = &result {
            assert_eq!(outcome.identity, None, "{name}: states no identity");
        }
        expect(name, "ordinal", result, want);
    }
}

#[test]
fn ordinal_pinned_settings() {
    for (settings, want) in [
        (Value::Null, "range is required"),
        (json!({"range": ""}), "range is required"),
        (
            json!({"range": "10.0.0.9-10.0.0.1"}),
            "range: range 10.0.0.9-10.0.0.1 ends before it starts",
        ),
        (json!({"range": "10.0.0.1-fd00::1"}), "mixes IPv4 and IPv6"),
        (json!({"range": "10.0.0.x"}), "not an IPv4 or IPv6 address"),
        (
            json!({"range": "10.0.0.1-10.0.0.2", "pool": ""}),
            "pool: must not be empty",
        ),
        (
            json!({"range": "10.0.0.1-10.0.0.2", "statefulSets": [""]}),
            "statefulSets: names must not be empty",
        ),
        (
            json!({"range": "10.0.0.1-10.0.0.2", "statefulSets": "web"}),
            "settings.statefulSets: invalid type",
        ),
        (
            json!({"range": "10.0.0.1-10.0.0.2", "pools": "a"}),
            "unknown field `pools`",
        ),
    ] {
        expect_invalid_settings("ordinal-pinned", settings, want);
    }
    load(&[builtin(
        "ok",
        "ordinal-pinned",
        json!({"range": "10.0.0.1"}),
    )]);
}

fn used(name: &str, n: u64) -> Pool {
    let mut p = pool(name, "10.0.0.0/24");
    p.namespace_used = n;
    p
}

#[test]
fn namespace_quota_table() {
    let mut net1 = binding("a", "10.0.0.5");
    net1.interface = "net1".into();
    type Case = (
        &'static str,
        Value,
        &'static str,
        Vec<Pool>,
        Vec<Binding>,
        Result<Decision, &'static str>,
    );
    let cases: Vec<Case> = vec![
        (
            "under quota",
            json!({"maxPerPool": 3}),
            "default",
            vec![used("a", 2)],
            vec![],
            Ok(Decision::Abstain),
        ),
        (
            "at quota, only pool",
            json!({"maxPerPool": 3}),
            "default",
            vec![used("a", 3)],
            vec![],
            Err("namespace default already holds 3 of 3 allowed addresses in pool a"),
        ),
        (
            "over quota, two pools",
            json!({"maxPerPool": 1}),
            "default",
            vec![used("a", 4), used("b", 1)],
            vec![],
            Err("in pool a; namespace default already holds 1 of 1 allowed addresses in pool b"),
        ),
        (
            "full pool dropped, order kept",
            json!({"maxPerPool": 2}),
            "default",
            vec![used("c", 0), used("a", 2), used("b", 1)],
            vec![],
            restrict(&["c", "b"]),
        ),
        (
            "namespace override tighter",
            json!({"maxPerPool": 10, "namespaces": {"batch": 1}}),
            "batch",
            vec![used("a", 1), used("b", 0)],
            vec![],
            restrict(&["b"]),
        ),
        (
            "namespace override looser",
            json!({"maxPerPool": 1, "namespaces": {"batch": 5}}),
            "batch",
            vec![used("a", 4)],
            vec![],
            Ok(Decision::Abstain),
        ),
        (
            "only overrides, other ns unlimited",
            json!({"namespaces": {"batch": 1}}),
            "default",
            vec![used("a", 100)],
            vec![],
            Ok(Decision::Abstain),
        ),
        (
            "pool filter",
            json!({"maxPerPool": 1, "pools": ["a"]}),
            "default",
            vec![used("a", 1), used("b", 9)],
            vec![],
            restrict(&["b"]),
        ),
        (
            "zero quota",
            json!({"maxPerPool": 0}),
            "default",
            vec![used("a", 0)],
            vec![],
            Err("holds 0 of 0 allowed addresses in pool a"),
        ),
        (
            "retained binding is reuse",
            json!({"maxPerPool": 2}),
            "default",
            vec![used("a", 2)],
            vec![binding("a", "10.0.0.5")],
            Ok(Decision::Abstain),
        ),
        (
            "reuse only unblocks its pool",
            json!({"maxPerPool": 2}),
            "default",
            vec![used("a", 2), used("b", 2)],
            vec![binding("b", "10.0.0.5")],
            restrict(&["b"]),
        ),
        (
            "binding of another interface is no reuse",
            json!({"maxPerPool": 2}),
            "default",
            vec![used("a", 2)],
            vec![net1],
            Err("holds 2 of 2"),
        ),
    ];
    for (name, settings, ns, pools, held_bindings, want) in cases {
        // sticky states the identity whose bindings the host then passes.
        let request = RequestBuilder::new()
            .namespace(ns)
            .stateful_set("web", 0)
            .pools(pools)
            .build();
        let result = compare(
            &[sticky(), quota(settings)],
            &request,
            &held(&held_bindings),
        );
        expect(name, "quota", result, want);
    }
}

#[test]
fn namespace_quota_settings() {
    for (settings, want) in [
        (Value::Null, "set maxPerPool or namespaces"),
        (json!({}), "set maxPerPool or namespaces"),
        (
            json!({"maxPerPool": -1}),
            "settings.maxPerPool: invalid value",
        ),
        (
            json!({"maxPerPool": 1, "pools": [""]}),
            "pools: names must not be empty",
        ),
        (
            json!({"namespaces": {"": 1}}),
            "namespaces: names must not be empty",
        ),
        (
            json!({"namespaces": {"a": "x"}}),
            "settings.namespaces.a: invalid type",
        ),
        (
            json!({"maxPerPool": 1, "perPool": 2}),
            "unknown field `perPool`",
        ),
    ] {
        expect_invalid_settings("namespace-quota", settings, want);
    }
}

#[test]
fn label_pool_table() {
    let settings = json!({"rules": [
        {"name": "databases", "selector": {"matchLabels": {"tier": "db"}}, "pools": ["db-b", "db-a"]},
        {"selector": {"matchExpressions": [{"key": "team", "operator": "In", "values": ["red", "blue"]}]}, "pools": ["team"]},
        {"selector": {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, "pools": ["tiered"]}
    ]});
    let pod = |labels: &[(&str, &str)], pools: &[&str]| {
        let mut b = RequestBuilder::new()
            .pod_name("p")
            .pools(pools.iter().map(|n| pool(n, "10.0.0.0/24")).collect());
        for (k, v) in labels {
            b = b.label(k, v);
        }
        b.build()
    };
    let cases: Vec<(&str, Request, Result<Decision, &str>)> = vec![
        ("rule order of pools", pod(&[("tier", "db")], &["db-a", "x", "db-b"]), restrict(&["db-b", "db-a"])),
        ("only current pools", pod(&[("tier", "db")], &["db-a", "x"]), restrict(&["db-a"])),
        ("first rule wins", pod(&[("tier", "db"), ("team", "red")], &["db-a", "team"]), restrict(&["db-a"])),
        ("expression rule", pod(&[("team", "blue")], &["team", "x"]), restrict(&["team"])),
        ("later rule", pod(&[("tier", "web")], &["tiered"]), restrict(&["tiered"])),
        ("no match", pod(&[("app", "x")], &["x"]), Ok(Decision::Abstain)),
        ("no labels", pod(&[], &["x"]), Ok(Decision::Abstain)),
        ("named rule, no current pool", pod(&[("tier", "db")], &["x", "y"]),
            Err("label-pool rule databases matches default/p but none of its pools (db-b, db-a) is a candidate (candidates: x, y)")),
        ("unnamed rule, no current pool", pod(&[("team", "red")], &[]),
            Err("rule rules[1] matches default/p but none of its pools (team) is a candidate (candidates: none)")),
    ];
    for (name, request, want) in cases {
        let result = compare(&[labels(settings.clone())], &request, &TestHost::default());
        expect(name, "labels", result, want);
    }
}

#[test]
fn label_pool_settings() {
    let rule = |extra: Value| json!({"rules": [extra]});
    for (settings, want) in [
        (Value::Null, "rules: at least one rule"),
        (
            rule(json!({"selector": {}, "pools": []})),
            "rules[0].pools: must not be empty",
        ),
        (
            rule(json!({"selector": {}, "pools": [""]})),
            "rules[0].pools[0]: must not be empty",
        ),
        (
            rule(json!({"selector": {}, "pools": ["a", "a"]})),
            "a is listed twice",
        ),
        (
            rule(
                json!({"selector": {"matchExpressions": [{"key": "k", "operator": "In"}]}, "pools": ["a"]}),
            ),
            "rules[0].selector: matchExpressions[0] (k): In needs at least one value",
        ),
        (
            rule(
                json!({"selector": {"matchExpressions": [{"key": "k", "operator": "Has"}]}, "pools": ["a"]}),
            ),
            "settings.rules[0].selector.matchExpressions[0].operator: unknown variant `Has`",
        ),
        (rule(json!({"pools": ["a"]})), "missing field `selector`"),
        (
            rule(json!({"selector": {}, "pools": ["a"], "pool": "b"})),
            "unknown field `pool`",
        ),
    ] {
        expect_invalid_settings("label-pool", settings, want);
    }
}

/// The default chain plus the three examples, in the order a chart would
/// list them, agree with their native builds end to end.
#[test]
fn four_policy_chain_matches_native() {
    let request = RequestBuilder::new()
        .namespace("default")
        .stateful_set("test-sts", 3)
        .label("tier", "db")
        .pools(vec![used("db-a", 0), pool("test-ippool", "10.6.0.0/16")])
        .build();
    let twins = [
        sticky(),
        labels(
            json!({"rules": [{"selector": {"matchLabels": {"tier": "db"}}, "pools": ["test-ippool"]}]}),
        ),
        quota(json!({"maxPerPool": 5})),
        ordinal(json!({"range": "10.6.168.101-10.6.168.110"})),
    ];
    let host = TestHost {
        assign_all: true,
        ..TestHost::default()
    };
    let outcome = compare(&twins, &request, &host).expect("the chain allocates");
    assert_eq!(outcome.pools, ["test-ippool"]);
    assert_eq!(
        outcome.picked,
        Some(candidate("test-ippool", "10.6.168.104"))
    );
}
