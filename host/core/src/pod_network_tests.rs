use super::*;
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
    let got = compose(&pools, &dual, &NetworkRequest::default());
    assert_eq!(
        routes_of(&got),
        vec!["0.0.0.0/0 via 10.6.0.1", "::/0 via fd00::1"]
    );
    // No gateway, no default route.
    let got = compose(
        &pools,
        &[assigned("bare", "10.7.0.5")],
        &NetworkRequest::default(),
    );
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
        };
        compose(&pools, &[assigned(p, a)], &request).routes.len()
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
    );
    assert_eq!(
        routes_of(&got),
        vec!["0.0.0.0/0 via 10.6.0.254", "192.168.0.0/16 via 10.6.0.1"]
    );
}
