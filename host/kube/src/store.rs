//! `KubeStore`: the `Store` of a cluster, one BerthAddress per held address.
//!
//! # Writes per allocation
//!
//! * a new address: 1 create (plus, when the record has an identity, 1
//!   list by `berth.io/identity-hash` — a read — see [`crate::apply`]);
//! * a re-bind of a held or retained address: 1 replace;
//! * a release: 1 delete (or 1 replace when it becomes retained).
//!
//! There is no per-pool object on the write path: pool usage is recomputed
//! in the background by [`crate::status::PoolStatusWriter`].
//!
//! # Concurrency control
//!
//! * Two nodes taking one address race on one object name: the API server
//!   lets exactly one create succeed; the other gets AlreadyExists, which
//!   the store reports as `StoreError::Conflict` (refresh and retry).
//! * A replace or delete carries the resourceVersion this store last saw
//!   (from its own writes and from `load`), so a write over a version
//!   another node changed fails with `Conflict` as well.
//!
//! # The sync facade
//!
//! `Store` is synchronous (the daemon calls it from a blocking section
//! while it holds the allocator). The store keeps a `tokio` runtime
//! `Handle` and runs each call as a task on that runtime, waiting for it on
//! a plain channel. Call the sync methods from a thread that is not one of
//! the runtime's workers (a `spawn_blocking` closure or a plain thread):
//! that never panics like a nested `block_on`, and the runtime's own
//! workers keep driving the HTTP connections. Async callers use
//! [`KubeStore::load_async`] / [`KubeStore::apply_async`].

use crate::convert::address_record;
use crate::crd_address::BerthAddress;
use crate::list::list_each_versioned;
use crate::seen::{seen_of, Seen};
use berth_core::record::{AddressRecord, Mutation};
use berth_core::store::{Store, StoreError};
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::runtime::Handle;

/// Counters of what the store did, for benchmarks and metrics.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub creates: AtomicU64,
    pub replaces: AtomicU64,
    pub deletes: AtomicU64,
    pub conflicts: AtomicU64,
    pub rollbacks: AtomicU64,
    pub identity_checks: AtomicU64,
    pub rereads: AtomicU64,
}

/// A snapshot of [`KubeStore::stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    pub creates: u64,
    pub replaces: u64,
    pub deletes: u64,
    /// Batches answered with `StoreError::Conflict`.
    pub conflicts: u64,
    /// Creates undone because a later write of their batch failed.
    pub rollbacks: u64,
    /// Identity lists before creating an identity's record.
    pub identity_checks: u64,
    /// Contended objects read again after a lost race (one GET each).
    pub rereads: u64,
}

pub(crate) struct Inner {
    pub api: Api<BerthAddress>,
    pub node: String,
    /// Object name -> last seen version of what this node's allocator
    /// holds. Replaced wholesale when a load is applied (`loaded`), updated
    /// by every write.
    pub seen: Mutex<HashMap<String, Seen>>,
    /// The versions of the last `load`, until the caller applied it.
    pub listed: Mutex<Option<HashMap<String, Seen>>>,
    pub counters: Counters,
    pub crash_point: crate::crash_point::CrashPoint,
    /// What other nodes wrote since the load (see [`crate::feed`]).
    pub feed: crate::feed::Feed,
}

/// The Kubernetes store of one node. Cheap to clone (shared state).
#[derive(Clone)]
pub struct KubeStore {
    pub(crate) inner: Arc<Inner>,
    handle: Handle,
}

impl KubeStore {
    /// A store writing as `node` (recorded in each object's `spec.node`
    /// and `berth.io/node` label) through `client`, whose runtime `handle`
    /// runs the requests of the sync methods.
    pub fn new(client: Client, node: impl Into<String>, handle: Handle) -> Self {
        KubeStore {
            inner: Arc::new(Inner {
                api: Api::all(client),
                node: node.into(),
                seen: Mutex::new(HashMap::new()),
                listed: Mutex::new(None),
                counters: Counters::default(),
                crash_point: crate::crash_point::CrashPoint::from_env(),
                feed: crate::feed::Feed::default(),
            }),
            handle,
        }
    }

    pub fn node(&self) -> &str {
        &self.inner.node
    }

    pub fn stats(&self) -> StoreStats {
        let c = &self.inner.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StoreStats {
            creates: get(&c.creates),
            replaces: get(&c.replaces),
            deletes: get(&c.deletes),
            conflicts: get(&c.conflicts),
            rollbacks: get(&c.rollbacks),
            identity_checks: get(&c.identity_checks),
            rereads: get(&c.rereads),
        }
    }

    /// Takes `objects`, as just read from the API server, as this store's
    /// view of them: a batch over their records then carries their
    /// resourceVersion and uid, so a replace or delete fails with
    /// `Conflict` if one changed since. For tools that act on a few objects
    /// they read themselves (`kubectl berth release`) rather than on every
    /// record of the cluster.
    pub fn adopt(&self, objects: &[BerthAddress]) {
        let mut seen = self.inner.lock_seen();
        for obj in objects {
            seen.insert(obj.name_any(), seen_of(obj));
        }
    }

    /// Every record in the cluster; the versions they were read at become
    /// this node's view once [`Store::loaded`] says they were applied.
    /// The first load also starts following changes from the list's
    /// version ([`crate::feed`]), so later refreshes read nothing.
    pub async fn load_async(&self) -> Result<Vec<AddressRecord>, StoreError> {
        let (records, version) = self.inner.load().await?;
        crate::feed::follow(&self.inner, &self.handle, version);
        Ok(records)
    }

    /// Persists `mutations` (see [`crate::apply`] for order and rollback).
    pub async fn apply_async(&self, mutations: &[Mutation]) -> Result<(), StoreError> {
        let result = self.inner.apply(mutations).await;
        if matches!(result, Err(StoreError::Conflict { .. })) {
            self.inner
                .counters
                .conflicts
                .fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    /// Runs `fut` on the store's runtime and waits for it on this thread.
    fn run<T: Send + 'static>(
        &self,
        operation: &'static str,
        fut: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.handle.spawn(async move {
            // The receiver only goes away if the caller's thread died.
            let _ = tx.send(fut.await);
        });
        rx.recv().unwrap_or_else(|_| {
            Err(StoreError::Backend {
                operation,
                message: "the runtime shut down before the request finished".to_owned(),
            })
        })
    }
}

impl Store for KubeStore {
    fn load(&self) -> Result<Vec<AddressRecord>, StoreError> {
        let store = self.clone();
        self.run("list", async move { store.load_async().await })
    }

    fn loaded(&self) {
        let listed = self
            .inner
            .listed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(listed) = listed {
            *self.inner.lock_seen() = listed;
        }
    }

    fn changes(&self) -> Result<Option<Vec<Mutation>>, StoreError> {
        if !self.inner.feed.following() {
            return Ok(None);
        }
        let mut seen = self.inner.lock_seen();
        Ok(Some(self.inner.feed.drain(&mut seen)))
    }

    fn apply(&self, mutations: &[Mutation]) -> Result<(), StoreError> {
        let store = self.clone();
        let mutations = mutations.to_vec();
        self.run("write", async move { store.apply_async(&mutations).await })
    }
}

impl Inner {
    async fn load(&self) -> Result<(Vec<AddressRecord>, String), StoreError> {
        let mut seen = HashMap::new();
        let mut records = Vec::new();
        let mut bad = Vec::new();
        // Each object is converted as its page arrives and then dropped.
        let version =
            list_each_versioned(
                &self.api,
                &ListParams::default(),
                |obj| match address_record(&obj) {
                    Ok(record) => {
                        seen.insert(obj.name_any(), seen_of(&obj));
                        records.push(record);
                    }
                    Err(e) => bad.push(e),
                },
            )
            .await
            .map_err(|e| StoreError::Backend {
                operation: "list berthaddresses",
                message: e.to_string(),
            })?;
        // A record that cannot be read still holds its address: starting
        // without it could hand the address out twice, so refuse.
        if let Some(first) = bad.first() {
            return Err(StoreError::Decode {
                key: format!("berthaddresses/{}", first.name),
                message: format!(
                    "{first}{}",
                    match bad.len() {
                        1 => String::new(),
                        n => format!(" (and {} more undecodable objects)", n - 1),
                    }
                ),
            });
        }
        *self.listed.lock().unwrap_or_else(|p| p.into_inner()) = Some(seen);
        Ok((records, version))
    }

    pub(crate) fn lock_seen(&self) -> std::sync::MutexGuard<'_, HashMap<String, Seen>> {
        // The map holds plain data; a panic elsewhere cannot leave it
        // half-updated in a way that matters (a stale entry only causes a
        // Conflict and a refresh).
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What the watch feed needs of the store it feeds.
impl crate::feed::Followed for Inner {
    fn api(&self) -> &Api<BerthAddress> {
        &self.api
    }

    fn feed(&self) -> &crate::feed::Feed {
        &self.feed
    }

    fn lock_seen(&self) -> std::sync::MutexGuard<'_, HashMap<String, Seen>> {
        Inner::lock_seen(self)
    }
}
