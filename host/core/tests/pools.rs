//! Pool validation: clear errors naming pool and field; huge pools work
//! without being enumerated; gateway, network, broadcast and exclusions
//! are never handed out.

mod common;

use berth_core::{AllocError, Allocator, Pool, PoolSpec};
use common::{add, input, pool, spec, NativeChain};
use std::collections::BTreeSet;
use std::net::IpAddr;

fn field_of(s: &PoolSpec) -> &'static str {
    Pool::from_spec(s).expect_err("must be refused").field
}

#[test]
fn invalid_specs_name_pool_and_field() {
    assert_eq!(field_of(&spec("a", "10.0.0.0/33", &[])), "subnet");
    assert_eq!(field_of(&spec("a", "nonsense", &[])), "subnet");
    let err = Pool::from_spec(&spec("a", "10.6.1.0/16", &[])).expect_err("host bits");
    assert!(err.to_string().contains("10.6.0.0/16"), "{err}");
    assert!(err.to_string().contains("pool \"a\""), "{err}");
    assert_eq!(field_of(&spec("a", "10.0.0.0/24", &["10.0.1.5"])), "ips");
    assert_eq!(
        field_of(&spec("a", "10.0.0.0/24", &["10.0.0.9-10.0.0.3"])),
        "ips"
    );
    assert_eq!(field_of(&spec("a", "10.0.0.0/24", &["fd00::1"])), "ips");
    assert_eq!(field_of(&spec("Bad/Name", "10.0.0.0/24", &[])), "name");
    assert_eq!(field_of(&spec("", "10.0.0.0/24", &[])), "name");
    let mut s = spec("a", "10.0.0.0/24", &[]);
    s.gateway = Some("10.0.1.1".into());
    assert_eq!(field_of(&s), "gateway");
    let mut s = spec("a", "10.0.0.0/24", &[]);
    s.exclude_ips = vec!["x".into()];
    assert_eq!(field_of(&s), "excludeIps");
    let mut s = spec("a", "10.0.0.0/24", &["10.0.0.5"]);
    s.exclude_ips = vec!["10.0.0.0/29".into()];
    let err = Pool::from_spec(&s).expect_err("nothing left");
    assert!(err.problem.contains("no assignable address"), "{err}");
    let mut s = spec("a", "10.0.0.0/24", &[]);
    s.routes = vec![berth_core::RouteSpec {
        dst: "0.0.0.0/0".into(),
        gw: Some("fd00::1".into()),
    }];
    assert_eq!(field_of(&s), "routes");
}

/// The rules the BerthPool CRD states in CEL hold for every config: a
/// canonical subnet, a gateway outside the listed ranges, routes of the
/// pool's family, entries no longer than the CRD allows.
#[test]
fn shape_rules_the_crd_also_states() {
    for subnet in [
        "fd00:6:0::/64",
        "FD00:6::/64",
        " 10.6.0.0/16",
        "10.6.0.0/016",
    ] {
        let err = Pool::from_spec(&spec("a", subnet, &[])).expect_err(subnet);
        assert_eq!(err.field, "subnet", "{err}");
    }
    let err = Pool::from_spec(&spec("a", "fd00:6:0::/64", &[])).expect_err("long form");
    assert!(err.problem.contains("write fd00:6::/64"), "{err}");

    let mut s = spec("a", "10.0.0.0/24", &["10.0.0.1-10.0.0.9", "10.0.0.20"]);
    for inside in ["10.0.0.1", "10.0.0.5", "10.0.0.9", "10.0.0.20"] {
        s.gateway = Some(inside.into());
        let err = Pool::from_spec(&s).expect_err(inside);
        assert_eq!(err.field, "gateway", "{err}");
        assert!(err.problem.contains("inside the ips entry"), "{err}");
    }
    s.gateway = Some("10.0.0.10".into());
    assert_eq!(Pool::from_spec(&s).expect("gateway beside").total(), 10);
    // Without `ips` the pool is the whole subnet and the gateway is simply
    // left out of it.
    let mut whole = spec("a", "10.0.0.0/29", &[]);
    whole.gateway = Some("10.0.0.1".into());
    assert_eq!(Pool::from_spec(&whole).expect("whole subnet").total(), 5);

    for (dst, gw) in [("fd00::/8", None), ("10.1.0.0/16", Some("fd00::1"))] {
        let mut s = spec("a", "10.0.0.0/24", &[]);
        s.routes = vec![berth_core::RouteSpec {
            dst: dst.into(),
            gw: gw.map(Into::into),
        }];
        assert_eq!(field_of(&s), "routes");
    }
    let long = format!("10.0.0.1-10.0.0.2{}", " ".repeat(80));
    assert_eq!(field_of(&spec("a", "10.0.0.0/24", &[&long])), "ips");
    let mut s = spec("a", "10.0.0.0/24", &[]);
    s.exclude_ips = vec!["10.0.0.1".into(); berth_core::limits::POOL_ENTRIES_MAX + 1];
    assert_eq!(field_of(&s), "excludeIps");
}

#[test]
fn spec_parses_camel_case_and_refuses_unknown_fields() {
    let s: PoolSpec = serde_json::from_str(
        r#"{"name":"test-ippool","subnet":"10.6.0.0/16","ips":["10.6.168.101-10.6.168.110"],
            "excludeIps":["10.6.168.105"],"gateway":"10.6.0.1","default":true,
            "routes":[{"dst":"10.7.0.0/16","gw":"10.6.0.1"}],"nodeSelector":{"zone":"a"}}"#,
    )
    .expect("valid spec");
    let p = Pool::from_spec(&s).expect("valid pool");
    assert_eq!(p.total(), 9);
    assert!(
        serde_json::from_str::<PoolSpec>(r#"{"name":"a","subnet":"10.0.0.0/8","ipz":[]}"#).is_err()
    );
}

#[test]
fn pools_may_not_overlap_or_repeat() {
    let a = pool("a", "10.0.0.0/16", &["10.0.1.0-10.0.1.255"]);
    let b = pool("b", "10.0.0.0/24", &[]);
    let c = pool("c", "10.0.1.0/24", &[]);
    Allocator::new(vec![a.clone(), b.clone()]).expect("disjoint ranges in one subnet are fine");
    let err = Allocator::new(vec![a.clone(), c]).expect_err("overlap");
    assert!(err.problem.contains("overlaps"), "{err}");
    assert_eq!(
        Allocator::new(vec![a.clone(), a]).expect_err("twice").field,
        "name"
    );
}

#[test]
fn slash_8_and_slash_64_are_never_enumerated() {
    let big4 = pool("big4", "10.0.0.0/8", &[]);
    assert_eq!(big4.total(), (1 << 24) - 2);
    let big6 = pool("big6", "fd00::/64", &[]);
    assert_eq!(
        big6.total(),
        u64::MAX,
        "2^64 minus the subnet-router address"
    );
    let huge = pool("huge", "fd01::/32", &[]);
    assert_eq!(huge.total(), u64::MAX, "saturates");
    let mut alloc = Allocator::new(vec![big4, big6, huge]).expect("pools");
    let chain = NativeChain::abstaining();
    let mut add_in = input("c1", "p1", &["big4", "big6"]);
    let got = add(&mut alloc, &add_in, &chain, 1).expect("dual stack");
    assert_eq!(
        got,
        vec![
            "10.0.0.1".parse::<IpAddr>().expect("ip"),
            "fd00::1".parse().expect("ip")
        ]
    );
    add_in = input("c2", "p2", &["huge"]);
    add_in.requested = vec!["fd01:0:ffff:ffff:ffff:ffff:ffff:ffff"
        .parse()
        .expect("address")];
    let got = add(&mut alloc, &add_in, &chain, 1).expect("last address of a /32");
    assert_eq!(got[0].to_string(), "fd01:0:ffff:ffff:ffff:ffff:ffff:ffff");
    let usage = alloc.pool_usage();
    assert_eq!(
        usage.iter().map(|u| u.used).collect::<Vec<_>>(),
        vec![1, 1, 1]
    );
}

#[test]
fn gateway_network_broadcast_and_exclusions_are_never_assigned() {
    let mut s = spec("small", "10.0.0.0/29", &[]);
    s.gateway = Some("10.0.0.1".into());
    s.exclude_ips = vec!["10.0.0.2-10.0.0.3".into()];
    let mut alloc = Allocator::new(vec![Pool::from_spec(&s).expect("pool")]).expect("alloc");
    let chain = NativeChain::abstaining();
    let mut got = BTreeSet::new();
    for i in 0..3 {
        let addrs = add(
            &mut alloc,
            &input(&format!("c{i}"), "p", &["small"]),
            &chain,
            1,
        )
        .expect("free");
        got.extend(addrs);
    }
    let want: BTreeSet<IpAddr> = ["10.0.0.4", "10.0.0.5", "10.0.0.6"]
        .iter()
        .map(|a| a.parse().expect("ip"))
        .collect();
    assert_eq!(got, want);
    let err = alloc
        .plan_add(&input("c9", "p", &["small"]), &chain, 1)
        .expect_err("exhausted");
    assert!(
        matches!(&err, AllocError::PoolExhausted { pools, .. } if pools == &["small"]),
        "{err}"
    );
    for gw in ["10.0.0.1", "10.0.0.0", "10.0.0.7", "10.0.0.2"] {
        let mut add_in = input("cx", "p", &["small"]);
        add_in.requested = vec![gw.parse().expect("address")];
        let err = alloc
            .plan_add(&add_in, &chain, 1)
            .expect_err("never assignable");
        assert!(
            matches!(err, AllocError::AddressUnavailable { .. }),
            "{gw}: {err}"
        );
    }
}

#[test]
fn point_to_point_prefixes_use_every_address() {
    assert_eq!(pool("p31", "10.0.0.0/31", &[]).total(), 2);
    assert_eq!(pool("p32", "10.0.0.9/32", &[]).total(), 1);
    assert_eq!(pool("p24", "10.0.0.0/24", &[]).total(), 254);
}

#[test]
fn pools_never_hand_out_loopback_multicast_or_broadcast() {
    for (subnet, ips) in [
        ("0.0.0.0/0", &[][..]),
        ("127.0.0.0/8", &[]),
        ("224.0.0.0/24", &[]),
        ("0.0.0.0/0", &["127.0.0.5"]),
        ("::/0", &[]),
        ("ff02::/120", &[]),
    ] {
        let err = Pool::from_spec(&spec("wide", subnet, ips)).expect_err(subnet);
        assert_eq!(err.field, "ips", "{err}");
        assert!(err.to_string().contains("no host may be given"), "{err}");
    }
    // The same wide subnet is fine once its ranges avoid those blocks.
    assert!(Pool::from_spec(&spec("wide", "0.0.0.0/0", &["10.9.0.1-10.9.0.9"])).is_ok());
}
