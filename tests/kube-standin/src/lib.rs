#![cfg_attr(test, allow(clippy::unwrap_used))]
//! An in-process stand-in for the Kubernetes API server, for tests that drive
//! the real kube-rs client (`kube::Api`, `kube::runtime::watcher`,
//! `reflector`) over plain HTTP on `127.0.0.1:<random port>`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use berth_kube_standin::{ApiServer, Fault};
//! let server = ApiServer::start()?;               // own runtime thread; stops on drop
//! server.register_resource("berth.io", "v1alpha1", "BerthPool", "berthpools", false);
//! let client = server.client()?;                  // call inside a Tokio runtime
//! server.set_latency(std::time::Duration::from_millis(2));
//! server.fail_next_writes("pods", 1, Fault::Conflict);
//! // ... use client ...
//! let writes = server.counts().writes("pods");
//! # Ok(()) }
//! ```
//!
//! Use it as a dev-dependency (`berth-kube-standin = { path = "..." }`); the
//! test crate picks the k8s-openapi `v1_*` feature (this crate's own tests use
//! `v1_37`, the newest k8s-openapi 0.29 offers). A lib-only build of this crate
//! needs `K8S_OPENAPI_ENABLED_VERSION=1.37`, as for any kube library.
//!
//! # What it covers
//!
//! * Objects of any registered type stored generically as JSON by (group,
//!   version, plural, namespace, name); core (`/api/v1`) and group
//!   (`/apis/<group>/<version>`) paths; namespaced and cluster-scoped types.
//!   Built in: pods, nodes, namespaces, configmaps, secrets, services, events,
//!   statefulsets, replicasets, deployments, daemonsets (apps/v1), leases
//!   (coordination.k8s.io/v1). Others via [`ApiServer::register_resource`].
//! * One global, monotonically increasing resourceVersion; `uid`,
//!   `creationTimestamp`, `generation` set on create; generation bumped when
//!   anything but metadata (and status, for types with a status subresource)
//!   changes; no-op writes change nothing and emit no event.
//! * GET; LIST (all namespaces or one) with `labelSelector` (`=`, `==`, `!=`,
//!   `in`, `notin`, `key`, `!key`) and `fieldSelector` (`=`, `==`, `!=` on any
//!   dotted path, e.g. `metadata.name`, `metadata.namespace`, `spec.nodeName`;
//!   a missing field reads as `""`), with the list's resourceVersion.
//! * CREATE with `generateName`; 409 `AlreadyExists`. PUT with 409 `Conflict`
//!   on a stale `metadata.resourceVersion`. PATCH (see [`patch`] for the
//!   simplifications), also 409 on a stale resourceVersion inside the patch.
//!   DELETE: 404 when absent, 409 on failed `preconditions` (resourceVersion,
//!   uid), answers with the deleted object. DELETE on a collection.
//!   `dryRun=All` on every write.
//! * `/status` subresource: its PUT/PATCH change only `.status`; the main
//!   resource's create/PUT/PATCH keep the stored `.status` (create drops it),
//!   for types registered with a status subresource.
//! * Finalizers: deleting an object with `metadata.finalizers` sets
//!   `deletionTimestamp` (a MODIFIED event); the update that removes the last
//!   finalizer deletes it (a DELETED event).
//! * WATCH, see [`watch`]: ADDED/MODIFIED/DELETED replayed from a bounded
//!   event log after a resourceVersion, 410 `Expired` ERROR events when it is
//!   too old, selector transitions, BOOKMARKs, `sendInitialEvents` streaming
//!   lists, `timeoutSeconds`.
//! * Test knobs: request counts by verb and resource ([`RequestCounts`]),
//!   injected per-request latency, injected write faults ([`Fault`]),
//!   [`ApiServer::compact`] to force 410s, direct reads of stored objects.
//! * Every write is atomic under one lock: of N concurrent creates of one
//!   name exactly one wins, the rest get 409.
//!
//! # What it does NOT do
//!
//! * No authentication, authorization (RBAC), TLS, admission (webhooks or
//!   built-in), defaulting, or validation against CRD schemas or built-in
//!   types; namespaces need not exist before objects are created in them.
//! * No garbage collection via ownerReferences; `propagationPolicy` and
//!   `gracePeriodSeconds` are ignored (pods vanish at once, as with no kubelet).
//! * No pagination: `limit` is ignored and every list is one complete page
//!   (never a `continue` token). No `resourceVersionMatch` semantics: GET and
//!   LIST always serve the latest state.
//! * No version conversion: each (group, version) is its own store.
//! * Unconditional PUT (no resourceVersion) is allowed for every type.
//! * Strategic merge and server-side apply are plain JSON merge patches (no
//!   field managers or ownership conflicts); bodies must be JSON, never YAML
//!   or protobuf.
//! * No discovery (`/api`, `/apis`), no logs/exec/attach/eviction/scale or
//!   other subresources but `status`; `/version` only.
//!
//! # What the real server covers instead
//!
//! `tests/cluster` (crate `berth-cluster`) runs Berth against a real
//! kube-apiserver, etcd and kube-controller-manager built from source, with
//! the chart installed by helm and berthd run from the image under the
//! chart's RBAC: authentication with bound ServiceAccount tokens, RBAC
//! (a missing grant shows up as a 403 in berthd's log and fails the test),
//! admission, CRD schema validation and printer columns, real watch caches,
//! pagination, ownerReference garbage collection and graceful deletion,
//! and the StatefulSet, ReplicaSet and Deployment controllers acting on
//! what the tests create. The seed walkthrough, CNI GC across nodes,
//! concurrent allocation, berthd crashes, `holdAfterScaleDown`, node and
//! StatefulSet garbage run there. This stand-in stays for what a real
//! server cannot be made to do on demand: injected latency, 5xx and
//! conflict faults on chosen writes, forced 410 `Expired` watches, and
//! exact request counts.

pub mod counters;
mod meta;
pub mod patch;
mod path;
pub mod resource;
mod router;
pub mod selectors;
mod server;
pub mod status;
mod store;
pub mod watch;
mod writes;

pub use counters::{Fault, RequestCounts};
pub use resource::{Gvr, ResourceDef};
pub use server::{ApiServer, ApiServerBuilder, StartError};
pub use status::ApiError;

use std::sync::{Mutex, RwLock};
use std::time::Duration;

/// State shared by the server handle and every connection.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) store: Mutex<store::Store>,
    pub(crate) registry: RwLock<resource::Registry>,
    /// Latest resourceVersion; watches wake on changes.
    pub(crate) changes: tokio::sync::watch::Sender<u64>,
    pub(crate) knobs: counters::Knobs,
    pub(crate) bookmark_interval: Duration,
}
