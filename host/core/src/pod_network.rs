//! What an interface is told besides its addresses: routes and DNS, from
//! its pools and from the request (the pod's annotations, the CNI config).
//!
//! Routes, in order:
//! 1. each address's pool `routes`;
//! 2. a default route (`0.0.0.0/0` or `::/0`) via the pool's `gateway`, as
//!    Spiderpool gives, unless the pool already lists a default route of
//!    that family or `cleanGateway` holds. `cleanGateway` is the
//!    request's when it sets one (pod annotation, else CNI config), else
//!    the pool's;
//! 3. the pod's own routes (annotations). A pod route whose gateway lies
//!    in the subnet of one of this interface's addresses is added, and
//!    replaces a route of steps 1-2 to the same destination (the pod is
//!    the more specific voice). One whose gateway lies in another pool's
//!    subnet is for another interface of the pod (Spiderpool groups them
//!    the same way) and is left out here. One whose gateway no pool's
//!    subnet holds can never be reached: the request is refused, before
//!    anything is written.
//!
//! DNS is the pools' `dns`, merged (`Dns::merge`).

use crate::allocator::Assigned;
use crate::dns::Dns;
use crate::error::AllocError;
use crate::pool::{Pool, Route};
use ipnet::IpNet;
use std::net::IpAddr;

/// What the request says about routes, beside its pools.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkRequest {
    /// Overrides every pool's `cleanGateway` when set.
    pub clean_gateway: Option<bool>,
    /// The pod's routes, each checked by [`parse_pod_route`].
    pub routes: Vec<Route>,
}

/// Routes and DNS for one interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodNetwork {
    pub routes: Vec<Route>,
    pub dns: Dns,
}

/// A pod route as annotations give it: `dst` a CIDR without host bits,
/// `gw` a unicast address of the same family (required, as Spiderpool
/// requires it: a pod route names its next hop).
pub fn parse_pod_route(dst: &str, gw: &str) -> Result<Route, String> {
    let net: IpNet = dst
        .trim()
        .parse()
        .map_err(|_| format!("dst {dst:?} is not a CIDR"))?;
    if net.network() != net.addr() {
        return Err(format!(
            "dst {net} has host bits set; did you mean {}?",
            net.trunc()
        ));
    }
    let hop: IpAddr = gw
        .trim()
        .parse()
        .map_err(|_| format!("gw {gw:?} is not an IP address"))?;
    if hop.is_ipv4() != net.addr().is_ipv4() {
        return Err(format!("gw {hop} is not of the family of dst {net}"));
    }
    if hop.is_unspecified() || hop.is_multicast() {
        return Err(format!("gw {hop} cannot be a next hop"));
    }
    Ok(Route {
        dst: net,
        gw: Some(hop),
    })
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

/// Routes and DNS for the addresses `assigned` to one interface (see the
/// module docs). `pools` are all pools in force.
pub fn compose(
    pools: &[Pool],
    assigned: &[Assigned],
    request: &NetworkRequest,
) -> Result<PodNetwork, AllocError> {
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
    for route in &request.routes {
        let Some(gw) = route.gw else {
            continue;
        };
        if own.iter().any(|p| p.subnet.contains(&gw)) {
            out.routes.retain(|r| r.dst != route.dst);
            out.routes.push(route.clone());
        } else if !pools.iter().any(|p| p.subnet.contains(&gw)) {
            return Err(AllocError::UnreachableRouteGateway {
                dst: route.dst.to_string(),
                gw,
            });
        }
    }
    for pool in &own {
        out.dns.merge(&pool.dns);
    }
    Ok(out)
}

#[cfg(test)]
#[path = "pod_network_tests.rs"]
mod tests;
