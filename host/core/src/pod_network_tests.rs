use super::*;
use crate::dns::DnsSpec;
use crate::pool::{PoolSpec, RouteSpec};

fn pool(name: &str, subnet: &str, gateway: Option<&str>) -> PoolSpec {
    PoolSpec {
        name: name.into(),
        subnet: subnet.into(),
        gateway: gateway.map(str::to_owned),
        ..PoolSpec::default()
    }
}

fn built(specs: &[PoolSpec]) -> Vec<Pool> {
    specs
        .iter()
        .map(|s| Pool::from_spec(s).expect("valid pool"))
        .collect()
}

fn assigned(pool: &str, address: &str) -> Assigned {
    Assigned {
        pool: pool.into(),
        address: address.parse().expect("address"),
        prefix_len: 24,
        gateway: None,
        routes: vec![],
    }
}

fn route(dst: &str, gw: &str) -> Route {
    Route {
        dst: dst.parse().expect("dst"),
        gw: Some(gw.parse().expect("gw")),
    }
}

fn routes_of(network: &PodNetwork) -> Vec<String> {
    network
        .routes
        .iter()
        .map(|r| {
            format!(
                "{} via {}",
                r.dst,
                r.gw.map(|g| g.to_string()).unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn a_gateway_gives_a_default_route_per_family() {
    let pools = built(&[
        pool("v4", "10.6.0.0/24", Some("10.6.0.1")),
        pool("v6", "fd00::/64", Some("fd00::1")),
        pool("bare", "10.7.0.0/24", None),
    ]);
    let dual = [assigned("v4", "10.6.0.5"), assigned("v6", "fd00::5")];
    let got = compose(&pools, &dual, &NetworkRequest::default()).expect("composed");
    assert_eq!(
        routes_of(&got),
        vec!["0.0.0.0/0 via 10.6.0.1", "::/0 via fd00::1"]
    );
    // No gateway, no default route.
    let got = compose(
        &pools,
        &[assigned("bare", "10.7.0.5")],
        &NetworkRequest::default(),
    )
    .expect("composed");
    assert!(got.routes.is_empty(), "{got:?}");
}

#[test]
fn clean_gateway_precedence_is_request_then_pool() {
    let mut clean = pool("clean", "10.6.0.0/24", Some("10.6.0.1"));
    clean.clean_gateway = true;
    let pools = built(&[clean, pool("dirty", "10.7.0.0/24", Some("10.7.0.1"))]);
    let on = |p: &str, a: &str, over: Option<bool>| {
        let request = NetworkRequest {
            clean_gateway: over,
            routes: vec![],
        };
        compose(&pools, &[assigned(p, a)], &request)
            .expect("composed")
            .routes
            .len()
    };
    assert_eq!(on("clean", "10.6.0.5", None), 0, "the pool's cleanGateway");
    assert_eq!(
        on("clean", "10.6.0.5", Some(false)),
        1,
        "the request overrides the pool"
    );
    assert_eq!(on("dirty", "10.7.0.5", None), 1);
    assert_eq!(
        on("dirty", "10.7.0.5", Some(true)),
        0,
        "the request cleans it"
    );
}

#[test]
fn a_default_route_the_pool_lists_is_not_duplicated() {
    let mut listed = pool("listed", "10.6.0.0/24", Some("10.6.0.1"));
    listed.routes = vec![
        RouteSpec {
            dst: "0.0.0.0/0".into(),
            gw: Some("10.6.0.254".into()),
        },
        RouteSpec {
            dst: "192.168.0.0/16".into(),
            gw: Some("10.6.0.1".into()),
        },
    ];
    let pools = built(&[listed]);
    let got = compose(
        &pools,
        &[assigned("listed", "10.6.0.5")],
        &NetworkRequest::default(),
    )
    .expect("composed");
    assert_eq!(
        routes_of(&got),
        vec!["0.0.0.0/0 via 10.6.0.254", "192.168.0.0/16 via 10.6.0.1"]
    );
}

#[test]
fn pod_routes_are_added_replace_by_destination_skip_other_interfaces_and_need_a_pool() {
    let pools = built(&[
        pool("eth0-pool", "10.6.0.0/24", Some("10.6.0.1")),
        pool("net1-pool", "10.8.0.0/24", None),
    ]);
    let request = NetworkRequest {
        clean_gateway: None,
        routes: vec![
            route("172.16.0.0/12", "10.6.0.9"),
            route("0.0.0.0/0", "10.6.0.254"),
            route("192.168.5.0/24", "10.8.0.1"),
        ],
    };
    let eth0 = compose(&pools, &[assigned("eth0-pool", "10.6.0.5")], &request).expect("eth0");
    assert_eq!(
        routes_of(&eth0),
        vec!["172.16.0.0/12 via 10.6.0.9", "0.0.0.0/0 via 10.6.0.254"],
        "the pod's default route replaces the gateway's; net1's route is not eth0's"
    );
    let net1 = compose(&pools, &[assigned("net1-pool", "10.8.0.5")], &request).expect("net1");
    assert_eq!(routes_of(&net1), vec!["192.168.5.0/24 via 10.8.0.1"]);

    let nowhere = NetworkRequest {
        clean_gateway: None,
        routes: vec![route("172.16.0.0/12", "10.99.0.1")],
    };
    let err =
        compose(&pools, &[assigned("eth0-pool", "10.6.0.5")], &nowhere).expect_err("unreachable");
    assert!(
        matches!(err, AllocError::UnreachableRouteGateway { .. }),
        "{err}"
    );
}

#[test]
fn pod_routes_are_parsed_strictly() {
    assert_eq!(
        parse_pod_route("10.0.0.0/16", "10.6.0.1").expect("valid"),
        route("10.0.0.0/16", "10.6.0.1")
    );
    assert!(parse_pod_route("fd01::/64", "fd00::1").is_ok());
    for (dst, gw) in [
        ("10.0.0.1/16", "10.6.0.1"),
        ("10.0.0.0/33", "10.6.0.1"),
        ("not-a-cidr", "10.6.0.1"),
        ("10.0.0.0/16", "fd00::1"),
        ("fd01::/64", "10.6.0.1"),
        ("10.0.0.0/16", "0.0.0.0"),
        ("10.0.0.0/16", "224.0.0.1"),
        ("10.0.0.0/16", "gateway"),
    ] {
        assert!(parse_pod_route(dst, gw).is_err(), "{dst} via {gw} accepted");
    }
}

#[test]
fn dns_of_the_interfaces_pools_is_merged() {
    let mut v4 = pool("v4", "10.6.0.0/24", None);
    v4.dns = DnsSpec {
        nameservers: vec!["10.6.0.53".into()],
        domain: Some("example.internal".into()),
        search: vec!["svc.example.internal".into()],
        options: vec!["ndots:2".into()],
    };
    let mut v6 = pool("v6", "fd00::/64", None);
    v6.dns.nameservers = vec!["fd00::53".into()];
    let pools = built(&[v4, v6, pool("other", "10.9.0.0/24", None)]);
    let got = compose(
        &pools,
        &[assigned("v4", "10.6.0.5"), assigned("v6", "fd00::5")],
        &NetworkRequest::default(),
    )
    .expect("composed");
    let servers: Vec<String> = got
        .dns
        .nameservers
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(servers, vec!["10.6.0.53", "fd00::53"]);
    assert_eq!(got.dns.domain.as_deref(), Some("example.internal"));
    let bare = compose(
        &pools,
        &[assigned("other", "10.9.0.5")],
        &NetworkRequest::default(),
    )
    .expect("composed");
    assert!(bare.dns.is_empty());
}
