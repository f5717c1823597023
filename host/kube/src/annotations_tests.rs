use super::*;
use crate::spiderpool::{REFUSED, SPIDER_SUBNET, SPIDER_SUBNETS};
use berth_core::pool_names::PoolRef;

fn ann(pairs: &[(&str, &str)]) -> Annotations {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn names(selection: &Selection) -> Vec<&str> {
    selection.pools.iter().map(|p| p.name.as_str()).collect()
}

fn pools(pod: &Annotations, interface: &str) -> Result<Selection, AnnotationError> {
    pools_for(pod, &Annotations::new(), interface, &[])
}

#[test]
fn precedence_pod_then_namespace_then_cni_config() {
    let cni = vec!["from-cni".to_owned()];
    let ns = ann(&[(NS_BERTH_DEFAULT, "ns-a,ns-b")]);
    let none = Annotations::new();
    let spider_ns = ann(&[(NS_SPIDER_V4, r#"["v4"]"#), (NS_SPIDER_V6, r#"["v6"]"#)]);
    let cases: Vec<(Annotations, &Annotations, &str, Vec<&str>)> = vec![
        (ann(&[(BERTH_POOL, "p")]), &ns, "eth0", vec!["p"]),
        (ann(&[(BERTH_POOL, "p")]), &ns, "net1", vec!["ns-a", "ns-b"]),
        (
            ann(&[(BERTH_POOLS, r#"[{"interface":"net1","pools":["n1"]}]"#)]),
            &ns,
            "net1",
            vec!["n1"],
        ),
        (
            ann(&[(BERTH_POOLS, r#"[{"interface":"net1","pools":["n1"]}]"#)]),
            &ns,
            "eth0",
            vec!["ns-a", "ns-b"],
        ),
        (
            ann(&[(SPIDER_POOL, r#"{"ipv4":["test-ippool"]}"#)]),
            &none,
            "eth0",
            vec!["test-ippool"],
        ),
        (
            ann(&[(
                SPIDER_POOLS,
                r#"[{"interface":"eth0","ipv4":["a"],"ipv6":["b"]}]"#,
            )]),
            &none,
            "eth0",
            vec!["a", "b"],
        ),
        (Annotations::new(), &ns, "eth0", vec!["ns-a", "ns-b"]),
        (Annotations::new(), &spider_ns, "eth0", vec!["v4", "v6"]),
        (Annotations::new(), &none, "eth0", vec!["from-cni"]),
    ];
    for (pod, ns, ifname, want) in cases {
        let got = pools_for(&pod, ns, ifname, &cni).expect("valid");
        assert_eq!(names(&got), want, "{pod:?} {ns:?} {ifname}");
    }
}

#[test]
fn spiderpool_lists_bind_their_family_and_berth_lists_do_not() {
    let spider = pools(
        &ann(&[(SPIDER_POOL, r#"{"ipv4":["a","b-*"],"ipv6":["c"]}"#)]),
        "eth0",
    )
    .expect("valid");
    assert_eq!(
        spider.pools,
        vec![
            PoolRef::of(IpFamily::V4, "a"),
            PoolRef::of(IpFamily::V4, "b-*"),
            PoolRef::of(IpFamily::V6, "c"),
        ]
    );
    let ns = ann(&[(NS_SPIDER_V6, r#"["v6-*"]"#)]);
    let got = pools_for(&Annotations::new(), &ns, "eth0", &[]).expect("valid");
    assert_eq!(got.pools, vec![PoolRef::of(IpFamily::V6, "v6-*")]);
    let berth = pools(&ann(&[(BERTH_POOL, "a,b-?")]), "eth0").expect("valid");
    assert_eq!(berth.pools, vec![PoolRef::any("a"), PoolRef::any("b-?")]);
}

#[test]
fn spiderpool_single_pool_applies_to_the_interface_being_configured() {
    let pod = ann(&[(SPIDER_POOL, r#"{"ipv4":["macvlan-pool"]}"#)]);
    for ifname in ["eth0", "net1", "net2", "eth1"] {
        assert_eq!(
            names(&pools(&pod, ifname).expect(ifname)),
            vec!["macvlan-pool"]
        );
    }
}

#[test]
fn spiderpool_multi_entries_match_by_name() {
    let pod = ann(&[(
        SPIDER_POOLS,
        r#"[{"interface":"net1","ipv4":["b"]},{"interface":"eth0","ipv4":["a"]}]"#,
    )]);
    assert_eq!(names(&pools(&pod, "eth0").expect("eth0")), vec!["a"]);
    assert_eq!(names(&pools(&pod, "net1").expect("net1")), vec!["b"]);
    // Spiderpool refuses an interface the list leaves out, and so does Berth
    // (no fall-through to the namespace or the CNI config).
    let ns = ann(&[(NS_BERTH_DEFAULT, "ns-pool")]);
    let err = pools_for(&pod, &ns, "net2", &["cni".into()]).expect_err("net2 unlisted");
    assert_eq!(err.key, SPIDER_POOLS);
    assert!(err.problem.contains("no entry for interface net2"), "{err}");
}

#[test]
fn spiderpool_multi_entries_without_names_match_by_order() {
    let pod = ann(&[(
        SPIDER_POOLS,
        r#"[{"ipv4":["first"]},{"ipv4":["second"],"cleangateway":true},{"interface":"","ipv4":["third"]}]"#,
    )]);
    assert_eq!(names(&pools(&pod, "eth0").expect("eth0")), vec!["first"]);
    let net1 = pools(&pod, "net1").expect("net1");
    assert_eq!(names(&net1), vec!["second"]);
    assert_eq!(net1.clean_gateway, Some(true));
    assert_eq!(names(&pools(&pod, "net2").expect("net2")), vec!["third"]);
    for (ifname, says) in [
        ("net3", "would be entry 4"),
        ("eth1", "no place for eth1"),
        ("net0", "no place for net0"),
        ("net01", "no place for net01"),
    ] {
        let err = pools(&pod, ifname).expect_err(ifname);
        assert!(err.problem.contains(says), "{ifname}: {err}");
    }
}

#[test]
fn spiderpool_multi_entries_that_cannot_be_matched_are_refused() {
    for value in [
        r#"[]"#,
        r#"[{"interface":"eth0","ipv4":["a"]},{"ipv4":["b"]}]"#,
        r#"[{"interface":"eth0","ipv4":["a"]},{"interface":"eth0","ipv4":["b"]}]"#,
        r#"[{"interface":"eth0","ipv4pools":["a"]}]"#,
        r#"[{"interface":"eth0","ipv4":["a"],"defaultRoute":true}]"#,
    ] {
        let err = pools(&ann(&[(SPIDER_POOLS, value)]), "eth0").expect_err(value);
        assert_eq!(err.key, SPIDER_POOLS, "{value}: {err}");
    }
}

#[test]
fn spidersubnet_and_its_auto_pool_settings_are_refused_with_what_to_use() {
    for key in REFUSED {
        let pod = ann(&[
            (key, r#"{"ipv4":["subnet-a"]}"#),
            (SPIDER_POOL, r#"{"ipv4":["a"]}"#),
        ]);
        let err = pools(&pod, "eth0").expect_err(key);
        assert_eq!(err.key, key);
        assert!(err.problem.contains("BerthPool"), "{err}");
        if key == SPIDER_SUBNET || key == SPIDER_SUBNETS {
            assert!(err.problem.contains("no SpiderSubnet"), "{err}");
        }
    }
}

#[test]
fn the_entry_that_names_the_pools_may_clean_the_gateway() {
    let berth = ann(&[(
        BERTH_POOLS,
        r#"[{"interface":"eth0","pools":["a"],"cleanGateway":true},{"interface":"net1","pools":["b"]}]"#,
    )]);
    assert_eq!(
        pools(&berth, "eth0").expect("valid").clean_gateway,
        Some(true)
    );
    assert_eq!(pools(&berth, "net1").expect("valid").clean_gateway, None);
    let spider = ann(&[(
        SPIDER_POOLS,
        r#"[{"interface":"eth0","ipv4":["a"],"cleangateway":false},{"interface":"net1","ipv4":["b"],"cleangateway":true}]"#,
    )]);
    assert_eq!(
        pools(&spider, "eth0").expect("valid").clean_gateway,
        Some(false)
    );
    assert_eq!(
        pools(&spider, "net1").expect("valid").clean_gateway,
        Some(true)
    );
    // Other sources carry none.
    let single = ann(&[(SPIDER_POOL, r#"{"ipv4":["a"]}"#)]);
    assert_eq!(pools(&single, "eth0").expect("valid").clean_gateway, None);
}

#[test]
fn malformed_annotations_are_errors_naming_the_key() {
    for (key, value) in [
        (BERTH_POOLS, "not json"),
        (BERTH_POOLS, r#"[{"interface":"eth0","pools":[]}]"#),
        (BERTH_POOL, " , "),
        (SPIDER_POOL, r#"{"ipv4": "a"}"#),
        (SPIDER_POOL, r#"{"interface":"eth0","ipv4":["a"]}"#),
        (BERTH_POOL, "a/b"),
        (
            BERTH_POOLS,
            r#"[{"interface":"eth0","pools":["a"],"cleanGateway":"yes"}]"#,
        ),
    ] {
        let err = pools(&ann(&[(key, value)]), "eth0").expect_err(value);
        assert_eq!(err.key, key);
    }
    let ns = ann(&[(NS_SPIDER_V6, "v6-pool")]);
    let err = pools_for(&Annotations::new(), &ns, "eth0", &[]).expect_err("not json");
    assert_eq!(err.key, NS_SPIDER_V6);
}
