//! What an interface is told besides its addresses: its routes, from its
//! pools and from the request (the pod's annotations, the CNI config).
//!
//! Routes, in order:
//! 1. each address's pool `routes`;
//! 2. a default route (`0.0.0.0/0` or `::/0`) via the pool's `gateway`, as
//!    Spiderpool gives, unless the pool already lists a default route of
//!    that family or `cleanGateway` holds. `cleanGateway` is the
//!    request's when it sets one (pod annotation, else CNI config), else
//!    the pool's.

use crate::allocator::Assigned;
use crate::pool::{Pool, Route};
use ipnet::IpNet;
use std::net::IpAddr;

/// What the request says about routes, beside its pools.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkRequest {
    /// Overrides every pool's `cleanGateway` when set.
    pub clean_gateway: Option<bool>,
}

/// Routes for one interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodNetwork {
    pub routes: Vec<Route>,
}

/// The default route's destination for `gateway`'s family.
fn default_dst(gateway: IpAddr) -> IpNet {
    let unspecified = match gateway {
        IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
    };
    // A zero prefix is valid for either family.
    IpNet::new(unspecified, 0).unwrap_or_default()
}

/// Routes for the addresses `assigned` to one interface (see the module
/// docs). `pools` are all pools in force.
pub fn compose(pools: &[Pool], assigned: &[Assigned], request: &NetworkRequest) -> PodNetwork {
    let mut out = PodNetwork::default();
    let pool_of = |name: &str| pools.iter().find(|p| p.name == name);
    let own: Vec<&Pool> = assigned.iter().filter_map(|a| pool_of(&a.pool)).collect();
    for pool in &own {
        for route in &pool.routes {
            if !out.routes.contains(route) {
                out.routes.push(route.clone());
            }
        }
    }
    for pool in &own {
        let Some(gateway) = pool.gateway else {
            continue;
        };
        let dst = default_dst(gateway);
        let clean = request.clean_gateway.unwrap_or(pool.clean_gateway);
        if !clean && !out.routes.iter().any(|r| r.dst == dst) {
            out.routes.push(Route {
                dst,
                gw: Some(gateway),
            });
        }
    }
    out
}

#[cfg(test)]
#[path = "pod_network_tests.rs"]
mod tests;
