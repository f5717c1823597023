//! `kubectl berth`: Berth's operator tool over the Kubernetes API.
//!
//! Every verb reads (and `release`/`migrate` write) Berth's objects with
//! the user's kubeconfig and RBAC; nothing talks to a node's socket. The
//! pieces berthd also uses come from `berth-kube` and `berth-core` (pool
//! admission, record decoding, the allocator's release plans, the store's
//! conditional writes, the status writer's counts), so the tool and the
//! daemon cannot disagree on what an object means.

pub mod allocations;
pub mod check;
pub mod cli;
pub mod client;
pub mod complete;
pub mod explain;
pub mod limits;
pub mod migrate;
pub mod orphans;
pub mod output;
pub mod pools;
pub mod pools_reserved;
pub mod read;
pub mod release;
