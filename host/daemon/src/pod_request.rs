//! What an ADD asks for beyond its attachment: its pools (names or
//! patterns, resolved under the allocator lock by
//! `berth_core::pool_names::resolve`) and what the interface gets besides
//! its addresses. Kubernetes mode reads both from the pod's annotations
//! over the CNI config (`cluster.rs`); otherwise they are the CNI
//! config's.

use berth_core::pod_network::NetworkRequest;
use berth_core::pool_names::PoolRef;
use berth_proto::AddRequest;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodRequest {
    pub pools: Vec<PoolRef>,
    pub network: NetworkRequest,
}

impl PodRequest {
    pub fn from_cni_config(add: &AddRequest) -> Self {
        Self {
            pools: add.pools.iter().map(PoolRef::any).collect(),
            network: NetworkRequest {
                clean_gateway: add.clean_gateway,
                routes: Vec::new(),
            },
        }
    }
}
