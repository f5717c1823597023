//! The answer to an ADD: the addresses the plan assigned, with the routes
//! and DNS `berth_core::pod_network` composed for the interface.

use berth_core::pod_network::PodNetwork;
use berth_core::Assigned;
use berth_proto::{AddResult, Dns, IpConfig, Route};

pub fn add_result(assigned: &[Assigned], network: &PodNetwork) -> AddResult {
    AddResult {
        ips: assigned
            .iter()
            .map(|a| IpConfig {
                // The prefix is the pool's subnet's, which fits its family.
                address: ipnet::IpNet::new(a.address, a.prefix_len)
                    .expect("a pool's prefix length fits its family"),
                gateway: a.gateway,
                pool: a.pool.clone(),
            })
            .collect(),
        routes: network
            .routes
            .iter()
            .map(|r| Route {
                dst: r.dst,
                gw: r.gw,
            })
            .collect(),
        dns: Dns {
            nameservers: network.dns.nameservers.clone(),
            domain: network.dns.domain.clone(),
            search: network.dns.search.clone(),
            options: network.dns.options.clone(),
        },
    }
}
