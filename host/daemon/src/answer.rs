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
                address: format!("{}/{}", a.address, a.prefix_len),
                gateway: a.gateway.map(|g| g.to_string()),
                pool: a.pool.clone(),
            })
            .collect(),
        routes: network
            .routes
            .iter()
            .map(|r| Route {
                dst: r.dst.to_string(),
                gw: r.gw.map(|g| g.to_string()),
            })
            .collect(),
        dns: Dns {
            nameservers: network
                .dns
                .nameservers
                .iter()
                .map(ToString::to_string)
                .collect(),
            domain: network.dns.domain.clone(),
            search: network.dns.search.clone(),
            options: network.dns.options.clone(),
        },
    }
}
