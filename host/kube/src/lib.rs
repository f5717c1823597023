//! Berth's Kubernetes store.
//!
//! * [`BerthPool`] (`bpool`) — a pool, cluster-scoped, with usage in status;
//! * [`BerthAddress`] (`baddr`) — one small object per held address, named
//!   from pool and address ([`names`]) so the API server's name uniqueness
//!   gives each address one owner (as Kubernetes' own `IPAddress` objects,
//!   KEP-1880, do for Service IPs);
//! * [`BerthReservedIP`] (`brip`) — addresses no node hands out;
//! * [`KubeStore`] — `berth_core::store::Store` over those objects;
//! * [`PoolStatusWriter`] and [`pools_from_cluster`] — pool status and
//!   configuration.
//!
//! The crate sets no k8s-openapi `v1_*` feature: the daemon binary and the
//! tests choose the Kubernetes version.

pub mod annotation_values;
pub mod annotations;
pub mod apply;
mod cel_ip;
pub mod convert;
mod crash_point;
pub mod crd_address;
pub mod crd_pool;
pub mod crd_reserved;
pub mod error;
pub mod feed;
pub mod limits;
pub mod list;
pub mod names;
pub mod network_annotations;
pub mod pool_admission;
pub mod pool_events;
pub mod pool_health;
pub mod pool_lifecycle;
mod pool_rules;
pub mod retry;
mod seen;
pub mod spiderpool;
pub mod status;
pub mod store;
pub mod workload;

pub use convert::ConvertError;
pub use crash_point::CRASH_AFTER_ADDRESS_WRITES_ENV;
pub use crd_address::{BerthAddress, BerthAddressSpec};
pub use crd_pool::{BerthPool, BerthPoolSpec, BerthPoolStatus};
pub use crd_reserved::{BerthReservedIP, BerthReservedIPSpec};
pub use error::KubeError;
pub use status::{pools_from_cluster, PoolStatusWriter};
pub use store::{KubeStore, StoreStats};

/// The CustomResourceDefinitions, for the Helm chart and for tests that
/// install them: (file name under `charts/berth/crds/`, definition).
pub fn crds() -> Vec<(
    &'static str,
    k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
)> {
    use kube::CustomResourceExt;
    vec![
        ("berthpools.yaml", BerthPool::crd()),
        ("berthaddresses.yaml", BerthAddress::crd()),
        ("berthreservedips.yaml", BerthReservedIP::crd()),
    ]
}
