use super::*;
use crate::pool::PoolSpec;

fn pool(name: &str, subnet: &str) -> Pool {
    Pool::from_spec(&PoolSpec {
        name: name.into(),
        subnet: subnet.into(),
        ..PoolSpec::default()
    })
    .expect("valid pool")
}

fn pools() -> Vec<Pool> {
    // Configured out of name order on purpose: patterns match in name order.
    vec![
        pool("backup-v4-b", "10.1.2.0/24"),
        pool("backup-v4-a", "10.1.1.0/24"),
        pool("backup-v6", "fd00:1::/64"),
        pool("main-v4", "10.1.0.0/24"),
        pool("main-v6", "fd00::/64"),
    ]
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn patterns_follow_go_filepath_match() {
    let cases: &[(&str, &str, bool)] = &[
        ("backup-*", "backup-v4-a", true),
        ("backup-*", "backup-", true),
        ("backup-*", "main-v4", false),
        ("*-v4", "main-v4", true),
        ("*", "anything", true),
        ("main-v?", "main-v4", true),
        ("main-v?", "main-v44", false),
        ("pool-[ab]", "pool-a", true),
        ("pool-[ab]", "pool-c", false),
        ("pool-[a-c]", "pool-c", true),
        ("pool-[^a-c]", "pool-c", false),
        ("pool-[^a-c]", "pool-d", true),
        ("pool-[0-9][0-9]", "pool-42", true),
        ("pool-[0-9][0-9]", "pool-4", false),
        ("a*b*c", "axxbyyc", true),
        ("a*b*c", "axxbyy", false),
        ("\\*x", "*x", true),
        ("\\*x", "ax", false),
        ("[\\]]", "]", true),
    ];
    for (pattern, name, want) in cases {
        let parsed = Pattern::parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        assert_eq!(parsed.matches(name), *want, "{pattern} vs {name}");
    }
}

#[test]
fn malformed_patterns_are_refused_whole() {
    for bad in [
        "pool-[",
        "pool-[]",
        "pool-[a-]",
        "pool-[-a]",
        "pool-[z-a]",
        "x\\",
    ] {
        assert!(Pattern::parse(bad).is_err(), "{bad} accepted");
    }
    // Through resolve: an error naming the pattern, whatever the pools.
    let err = resolve(&pools(), &[PoolRef::any("backup-[z-a]*")]).expect_err("bad pattern");
    assert!(
        matches!(&err, AllocError::BadPoolPattern { pattern, .. } if pattern == "backup-[z-a]*"),
        "{err}"
    );
}

#[test]
fn only_spiderpools_wildcards_make_a_pattern() {
    assert!(is_pattern("a*") && is_pattern("a?") && is_pattern("a[b]"));
    assert!(!is_pattern("plain-name") && !is_pattern("half[") && !is_pattern("half]"));
}

#[test]
fn resolution_keeps_order_expands_by_name_and_honours_families() {
    let got = resolve(
        &pools(),
        &[
            PoolRef::of(IpFamily::V4, "main-v4"),
            PoolRef::of(IpFamily::V4, "backup-*"),
            PoolRef::of(IpFamily::V6, "*-v6"),
            PoolRef::any("main-v4"),
        ],
    )
    .expect("resolves");
    assert_eq!(
        got,
        names(&[
            "main-v4",
            "backup-v4-a",
            "backup-v4-b",
            "backup-v6",
            "main-v6"
        ])
    );
    // Without a family a pattern takes both.
    let any = resolve(&pools(), &[PoolRef::any("backup-*")]).expect("resolves");
    assert_eq!(any, names(&["backup-v4-a", "backup-v4-b", "backup-v6"]));
}

#[test]
fn an_exact_name_of_the_wrong_family_is_refused() {
    let err = resolve(&pools(), &[PoolRef::of(IpFamily::V4, "main-v6")]).expect_err("v6 as v4");
    assert!(matches!(err, AllocError::PoolFamily { .. }), "{err}");
}

#[test]
fn unknown_names_pass_through_but_an_empty_resolution_is_an_error() {
    let got = resolve(&pools(), &[PoolRef::any("nope")]).expect("left to the allocator");
    assert_eq!(got, names(&["nope"]));
    // A pattern matching nothing next to a real name is fine ...
    let got = resolve(
        &pools(),
        &[PoolRef::any("spare-*"), PoolRef::any("main-v4")],
    )
    .expect("resolves");
    assert_eq!(got, names(&["main-v4"]));
    // ... but nothing at all must not fall back to the default pools.
    let err = resolve(&pools(), &[PoolRef::of(IpFamily::V6, "backup-v4-*")]).expect_err("none");
    assert!(matches!(err, AllocError::NoPoolMatches { .. }), "{err}");
    assert!(resolve(&pools(), &[]).expect("empty").is_empty());
}
