use super::*;
use berth_policy_sdk::harness::{
    assert_decision, assert_settings_refused, candidate, pool, FakeView, Harness, RequestBuilder,
};

const RANGE: &str = r#""range": "10.6.168.101-10.6.168.110""#;

fn sts(name: &str, ordinal: u32) -> RequestBuilder {
    RequestBuilder::new()
        .stateful_set(name, ordinal)
        .pools(vec![
            pool("other", "10.9.0.0/16"),
            pool("test-ippool", "10.6.0.0/16"),
        ])
}

fn pick(pool: &str, address: &str) -> Decision {
    Decision::Pick(candidate(pool, address))
}

#[test]
fn evaluate_table() {
    let with = |extra: &str| format!("{{{RANGE}{extra}}}");
    let v6 = r#"{"range": "fd00::10-fd00::1f"}"#.to_owned();
    let cases: Vec<(&str, String, Request, Result<Decision, &str>)> = vec![
        ("first ordinal", with(""), sts("test-sts", 0).build(), Ok(pick("test-ippool", "10.6.168.101"))),
        ("last ordinal", with(""), sts("test-sts", 9).build(), Ok(pick("test-ippool", "10.6.168.110"))),
        ("past the range", with(""), sts("test-sts", 12).build(),
            Err("ordinal 12 of default/test-sts is past the 10 addresses of 10.6.168.101-10.6.168.110")),
        ("huge ordinal", with(""), sts("test-sts", u32::MAX).build(), Err("is past the 10 addresses")),
        ("filter matches", with(r#", "statefulSets": ["test-sts"]"#), sts("test-sts", 1).build(), Ok(pick("test-ippool", "10.6.168.102"))),
        ("filter excludes", with(r#", "statefulSets": ["db"]"#), sts("test-sts", 1).build(), Ok(Decision::Abstain)),
        ("not a statefulset", with(""), RequestBuilder::new().build(), Ok(Decision::Abstain)),
        ("named pool", with(r#", "pool": "test-ippool""#), sts("test-sts", 2).build(), Ok(pick("test-ippool", "10.6.168.103"))),
        ("named pool not a candidate", with(r#", "pool": "gone""#), sts("test-sts", 2).build(),
            Err("pool gone is not a candidate for default/test-sts-2 (candidates: other, test-ippool)")),
        ("named pool does not contain it", with(r#", "pool": "other""#), sts("test-sts", 2).build(),
            Err("10.6.168.103 (ordinal 2 of default/test-sts) is outside pool other (10.9.0.0/16)")),
        ("no pool contains it", with(""), sts("test-sts", 0).pools(vec![pool("other", "10.9.0.0/16")]).build(),
            Err("no candidate pool contains 10.6.168.101 (ordinal 0 of default/test-sts; candidates: other)")),
        ("other family abstains", with(""), sts("test-sts", 0).family(IpFamily::V6).build(), Ok(Decision::Abstain)),
        ("ipv6 range", v6, sts("db", 15).family(IpFamily::V6).pools(vec![pool("v6", "fd00::/64")]).build(),
            Ok(pick("v6", "fd00::1f"))),
    ];
    for (name, settings, request, want) in cases {
        // The range is free in the pool: its picks are legal though no
        // sampled candidate names them (the host's rule, in the harness).
        let view = FakeView::of(&request)
            .free("test-ippool", "10.6.168.101-10.6.168.110")
            .free("v6", "fd00::10-fd00::1f");
        let got = Harness::<OrdinalPinned>::new(&settings)
            .unwrap()
            .evaluate_with(&request, view);
        assert_decision(name, got, want);
    }
}

#[test]
fn states_no_identity() {
    let h = Harness::<OrdinalPinned>::new(&format!("{{{RANGE}}}")).unwrap();
    assert_eq!(h.identify(&sts("test-sts", 0).build()), None);
}

#[test]
fn validate_table() {
    let cases = [
        ("", "range is required"),
        (r#"{"range": ""}"#, "range is required"),
        (
            r#"{"range": "10.0.0.9-10.0.0.1"}"#,
            "range: range 10.0.0.9-10.0.0.1 ends before it starts",
        ),
        (r#"{"range": "10.0.0.1-fd00::1"}"#, "mixes IPv4 and IPv6"),
        (r#"{"range": "10.0.0.x"}"#, "not an IPv4 or IPv6 address"),
        (
            r#"{"range": "10.0.0.1-10.0.0.2", "pool": ""}"#,
            "pool: must not be empty",
        ),
        (
            r#"{"range": "10.0.0.1-10.0.0.2", "statefulSets": [""]}"#,
            "statefulSets: names must not be empty",
        ),
        (
            r#"{"range": "10.0.0.1-10.0.0.2", "statefulSets": "web"}"#,
            "settings.statefulSets: invalid type",
        ),
        (
            r#"{"range": "10.0.0.1-10.0.0.2", "pools": "a"}"#,
            "unknown field `pools`",
        ),
    ];
    for (settings, want) in cases {
        assert_settings_refused::<OrdinalPinned>(settings, want);
    }
    assert!(Harness::<OrdinalPinned>::new(r#"{"range": "10.0.0.1"}"#).is_ok());
}
