//! Kubernetes mode: state in the API server (one `BerthAddress` object per
//! held address), pools from `BerthPool` objects, workload identity from
//! the cluster, and garbage collection of what pods left behind.

// The pure parser lives in berth-kube (so the fuzz targets reach it);
// `crate::kube::annotations` keeps naming it here.
pub use berth_kube::annotations;
pub mod directory;
pub mod directory_error;
pub mod gc;
pub mod mode;
pub mod ordinals;
pub mod owners;
pub mod refresh;

use serde::Deserialize;

/// The `kubernetes` section of the daemon config; present = Kubernetes mode.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubernetesConfig {
    /// API server URL (tests, out-of-cluster runs). Absent: the in-cluster
    /// service account, or `KUBECONFIG`.
    #[serde(default)]
    pub api_server_url: Option<String>,
    /// How often GC looks for addresses of pods that are gone.
    #[serde(default = "default_gc_interval_secs")]
    pub gc_interval_secs: u64,
    /// How long something must look like garbage before GC frees it.
    #[serde(default = "default_gc_grace_secs")]
    pub gc_grace_secs: u64,
    /// A pod Terminating on a node that is NotReady or gone: how long past
    /// its grace period (its `deletionTimestamp`) GC waits before it
    /// releases the pod's addresses. Covers a partitioned node whose pods
    /// may still run, and a node that comes back to tear them down itself.
    #[serde(default = "default_gc_terminating_grace_secs")]
    pub gc_terminating_grace_secs: u64,
    /// How often pools are re-read from `BerthPool` objects and pool
    /// status counts recomputed.
    #[serde(default = "default_pool_sync_secs")]
    pub pool_sync_interval_secs: u64,
}

fn default_gc_interval_secs() -> u64 {
    crate::limits::GC_INTERVAL_SECS_DEFAULT
}

fn default_gc_grace_secs() -> u64 {
    crate::limits::GC_GRACE_SECS_DEFAULT
}

fn default_gc_terminating_grace_secs() -> u64 {
    crate::limits::GC_TERMINATING_GRACE_SECS_DEFAULT
}

fn default_pool_sync_secs() -> u64 {
    crate::limits::POOL_SYNC_INTERVAL_SECS_DEFAULT
}
