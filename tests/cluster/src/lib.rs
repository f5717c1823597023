//! A real Kubernetes cluster for tests: etcd, kube-apiserver and
//! kube-controller-manager, built from pinned Go modules by
//! `scripts/setup-control-plane`, started on loopback ports in a temp dir;
//! Berth's Helm chart installed by a genuine helm; and nodes, each with
//! the chart's DaemonSet pod (berthd and its init containers run from the
//! image `scripts/build-image` makes) and a test kubelet that runs the
//! real CNI chain (Debian's bridge and macvlan with `"ipam": {"type":
//! "berth"}`) in network namespaces.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use berth_cluster::{Cluster, ClusterConfig};
//! let cluster = Cluster::start(ClusterConfig::nodes(2)).await?;
//! cluster.kubectl(&["apply", "-f", "examples/kubernetes/test-ippool.yaml"])?;
//! let pod = cluster.node("node-a").kubelet().sandboxes();
//! cluster.assert_no_forbidden()?;
//! # let _ = pod; Ok(()) }
//! ```
//!
//! What runs: RBAC and Node authorization, the default admission plugins,
//! bound ServiceAccount tokens, and the statefulset, replicaset,
//! deployment, garbage-collector, namespace and serviceaccount
//! controllers. Ours: a trivial scheduler, the DaemonSet controller's one
//! job (a pod of the chart's DaemonSet per node) and the kubelets. Not
//! running: kube-scheduler, the node lifecycle controller (so nodes
//! without heartbeats stay Ready) and the pod GC controller.
//!
//! The control plane binaries are never built from here: if they are
//! missing, [`ControlPlane::start`] fails and names the script to run.
//! The image is built on first use (`scripts/build-image --profile
//! debug`, its own cargo target dir) unless `BERTH_IMAGE_ARCHIVE` names
//! one. Everything is killed by PID and every namespace deleted when the
//! [`Cluster`] is dropped; set `BERTH_CLUSTER_KEEP_DIR=1` to keep its dir
//! (logs of every component, berthd and kubelet per node) afterwards.

mod accounts;
mod api_forward;
mod binaries;
mod checks;
mod cluster;
mod components;
mod config;
mod container;
mod control_plane;
mod crds;
mod daemon_pod;
mod daemonset;
mod helm;
mod helper;
mod image;
mod kubeconfig;
pub mod kubelet;
mod netns;
mod node;
mod nodes;
mod pki;
mod process;
pub mod prometheus;
mod readiness;

pub use binaries::{repo_root, Binaries, BIN_DIR_ENV};
pub use checks::PodAddress;
pub use cluster::{is_forbidden, is_ready, Cluster, CHART, NAMESPACE, RELEASE};
pub use components::{CONTROLLERS, SERVICE_ACCOUNT_ISSUER, SERVICE_CIDR};
pub use config::ClusterConfig;
pub use control_plane::{ControlPlane, KEEP_DIR_ENV};
pub use helm::Helm;
pub use helper::{helper_binary, HELPER_ENV};
pub use image::{build_dir as musl_build_dir, Image, ImageProfile, ARCHIVE_ENV, IMAGE_DIR_ENV};
pub use netns::Netns;
pub use node::{pod_networks, ClusterNode, NodeSpec};
pub use readiness::wait_for;
