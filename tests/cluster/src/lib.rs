//! A real Kubernetes control plane for tests: etcd, kube-apiserver and
//! kube-controller-manager, built from pinned Go modules by
//! `scripts/setup-control-plane`, started on loopback ports in a temp dir.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let cluster = berth_cluster::ControlPlane::start().await?;
//! let client = cluster.client().await?; // cluster admin
//! cluster.create_node("node-a", &[("topology.kubernetes.io/zone", "a")]).await?;
//! let berthd = cluster.kubeconfig_for_service_account("berth-system", "berth").await?;
//! # let _ = (client, berthd); Ok(()) }
//! ```
//!
//! What runs: RBAC and Node authorization, the default admission plugins,
//! bound ServiceAccount tokens, and the statefulset, replicaset, deployment,
//! garbage-collector, namespace and serviceaccount controllers. What does
//! not: a scheduler, kubelets (pods stay Pending until a test binds them)
//! and the node lifecycle controller (so kubelet-less nodes stay Ready).
//!
//! The binaries are never built from here: if they are missing,
//! [`ControlPlane::start`] fails and names the script to run. Everything is
//! killed by PID when the [`ControlPlane`] is dropped; set
//! `BERTH_CLUSTER_KEEP_DIR=1` to keep its dir (logs, kubeconfigs) afterwards.

mod accounts;
mod binaries;
mod components;
mod control_plane;
mod kubeconfig;
mod nodes;
mod pki;
mod process;
mod readiness;

pub use binaries::{repo_root, Binaries, BIN_DIR_ENV};
pub use components::{CONTROLLERS, SERVICE_ACCOUNT_ISSUER, SERVICE_CIDR};
pub use control_plane::{ControlPlane, KEEP_DIR_ENV};
