//! The watch feed: how a node learns what other nodes wrote without
//! re-listing every `BerthAddress` of the cluster.
//!
//! After the start-up list, the store watches BerthAddresses from that
//! list's resourceVersion and queues each event; the daemon takes the
//! queue ([`berth_core::store::Store::changes`]) under its allocator lock
//! and absorbs it (`Allocator::absorb`). A refresh (a GC pass, a lost race)
//! then costs no request and reads no object, whatever the cluster's size.
//! A lost race adds the one contended object, read by GET (`apply.rs`).
//!
//! # Order and staleness
//!
//! Events and this node's own writes reach the allocator by two paths, so
//! each change carries the object's resourceVersion and is taken only if
//! it is newer than what this node has seen of that object (`seen`, kept
//! by the store under the allocator lock) or than the version at which
//! this node deleted it (`tombstones`). A stale event (the echo of a write
//! this node already applied, or of an object it has since deleted) is
//! dropped. resourceVersions are compared as integers, as etcd revisions
//! are; one that is not a number counts as newer (the change is taken: the
//! feed may re-apply, never skip).
//!
//! # A dropped watch, 410 Gone
//!
//! A watch that ends is resumed from the last version it delivered. One
//! the server expired (410) is replaced by a fresh list: its objects are
//! queued as puts, and every object this node has seen, absent from the
//! list and not newer than it, as a removal. A node whose watch is down
//! is stale, not wrong: its creates still race on object names, and a
//! lost race reads the contended object.

use crate::convert::address_record;
use crate::crd_address::BerthAddress;
use crate::limits::KUBE_RETRY_BACKOFF_MAX_MS;
use crate::limits::KUBE_WATCH_TIMEOUT_SECS;
use crate::list::list_all_versioned;
use crate::names::address_from_label;
use crate::seen::{seen_of, Seen};
use berth_core::record::Mutation;
use futures::StreamExt;
use kube::api::{ListParams, WatchEvent, WatchParams};
use kube::ResourceExt;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Set to `relist` (benchmarks' same-run baseline only), the store does
/// not follow changes: every refresh lists every BerthAddress, as before
/// the feed existed.
pub const REFRESH_MODE_ENV: &str = "BERTH_KUBE_REFRESH";

/// Whether this process was told to refresh by re-listing.
pub(crate) fn relist_mode() -> bool {
    std::env::var(REFRESH_MODE_ENV).is_ok_and(|v| v == "relist")
}

/// One queued change.
pub(crate) enum Pending {
    Put {
        name: String,
        seen: Seen,
        record: Box<berth_core::record::AddressRecord>,
    },
    Gone {
        name: String,
        version: String,
    },
    /// A fresh list after an expired watch: these names exist at `version`.
    Relisted {
        names: HashSet<String>,
        version: String,
    },
}

#[derive(Default)]
pub(crate) struct Feed {
    queue: Mutex<Vec<Pending>>,
    /// The watch was started (at the first load).
    following: AtomicBool,
    /// Objects this node deleted, at the version it last saw them: older
    /// or equal events of them are echoes. Pruned when the queue drains.
    tombstones: Mutex<HashMap<String, String>>,
    /// The newest version the watch has queued (0: none yet, or not a
    /// number): every event up to it is in the queue or drained.
    delivered: AtomicU64,
}

/// Whether version `a` is newer than `b` (see the module doc).
pub(crate) fn newer(a: &str, b: &str) -> bool {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(a), Ok(b)) => a > b,
        _ => true,
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Plain queues and maps: a panic elsewhere leaves them usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Feed {
    pub(crate) fn following(&self) -> bool {
        self.following.load(Ordering::Acquire)
    }

    /// Queues `obj` as it now is in the API server.
    pub(crate) fn put(&self, obj: &BerthAddress) {
        match address_record(obj) {
            Ok(record) => lock(&self.queue).push(Pending::Put {
                name: obj.name_any(),
                seen: seen_of(obj),
                record: Box::new(record),
            }),
            // Its create-by-name still fails for anyone else, and a lost
            // race reads it again: the address is never handed out twice.
            Err(error) => tracing::warn!(object = %obj.name_any(), %error,
                "a BerthAddress from the watch cannot be read; its address is not offered"),
        }
    }

    pub(crate) fn gone(&self, obj: &BerthAddress) {
        lock(&self.queue).push(Pending::Gone {
            name: obj.name_any(),
            version: obj.resource_version().unwrap_or_default(),
        });
    }

    /// `name` was read as absent just now, while this node held it at
    /// `version`: that version is gone (a newer one this node writes
    /// before the queue drains is not).
    pub(crate) fn vanished(&self, name: &str, version: String) {
        lock(&self.queue).push(Pending::Gone {
            name: name.to_owned(),
            version,
        });
    }

    /// This node deleted `name`, last seen at `version`.
    pub(crate) fn deleted(&self, name: &str, version: &str) {
        lock(&self.tombstones).insert(name.to_owned(), version.to_owned());
    }

    /// The queued changes this node has not seen, as mutations; `seen` is
    /// the store's view, updated to include them. Call under the
    /// allocator lock, and apply the result before releasing it.
    pub(crate) fn drain(&self, seen: &mut HashMap<String, Seen>) -> Vec<Mutation> {
        // Read before the queue is taken: every event up to it is in there.
        let delivered = self.delivered.load(Ordering::Acquire);
        let queue = std::mem::take(&mut *lock(&self.queue));
        let mut tombstones = lock(&self.tombstones);
        let mut out = Vec::new();
        for change in queue {
            match change {
                Pending::Put {
                    name,
                    seen: fresh,
                    record,
                } => {
                    let known = seen.get(&name).map(|s| s.resource_version.as_str());
                    let dead = tombstones.get(&name).map(String::as_str);
                    let newer_than =
                        |v: Option<&str>| v.is_none_or(|v| newer(&fresh.resource_version, v));
                    if newer_than(known) && newer_than(dead) {
                        tombstones.remove(&name);
                        seen.insert(name, fresh);
                        out.push(Mutation::Put(*record));
                    }
                }
                Pending::Gone { name, version } => {
                    let known = seen.get(&name).map(|s| s.resource_version.clone());
                    if known.is_some_and(|v| !newer(&v, &version)) {
                        seen.remove(&name);
                        out.extend(removal(&name));
                    }
                }
                Pending::Relisted { names, version } => {
                    let vanished: Vec<String> = seen
                        .iter()
                        .filter(|(n, s)| {
                            !names.contains(*n) && !newer(&s.resource_version, &version)
                        })
                        .map(|(n, _)| n.clone())
                        .collect();
                    for name in vanished {
                        seen.remove(&name);
                        out.extend(removal(&name));
                    }
                    // Every older event is behind the list.
                    tombstones.retain(|_, v| newer(v, &version));
                }
            }
        }
        // No event at or below `delivered` can come any more: the
        // tombstones it covers have done their work.
        if delivered > 0 {
            tombstones.retain(|_, v| newer(v, &delivered.to_string()));
        }
        out
    }

    /// The watch queued everything up to `version`.
    fn delivered(&self, version: &str) {
        if let Ok(v) = version.parse::<u64>() {
            self.delivered.fetch_max(v, Ordering::AcqRel);
        }
    }
}

/// The removal of object `name` (`<pool>.<address label>`). A pool name
/// too long to be spelled whole in object names is not recovered here: the
/// removal then matches no record and the address stays held until the
/// next full load — stale on the safe side.
fn removal(name: &str) -> Option<Mutation> {
    let (pool, label) = name.rsplit_once('.')?;
    let address: IpAddr = address_from_label(label)?;
    Some(Mutation::Remove {
        pool: pool.to_owned(),
        address,
    })
}

/// The store the feed follows for: its API, its feed and what it has seen.
/// A trait so this module does not depend back on `store.rs`.
pub(crate) trait Followed: Send + Sync + 'static {
    fn api(&self) -> &kube::Api<BerthAddress>;
    fn feed(&self) -> &Feed;
    fn lock_seen(&self) -> std::sync::MutexGuard<'_, HashMap<String, Seen>>;
}

/// Starts following BerthAddresses from `version` (once per store).
pub(crate) fn follow<S: Followed>(
    store: &Arc<S>,
    handle: &tokio::runtime::Handle,
    version: String,
) {
    if relist_mode() || store.feed().following.swap(true, Ordering::AcqRel) {
        return;
    }
    let store = store.clone();
    handle.spawn(async move { watch_from(store, version).await });
}

async fn watch_from<S: Followed>(store: Arc<S>, mut version: String) {
    let pause = Duration::from_millis(KUBE_RETRY_BACKOFF_MAX_MS);
    loop {
        let params = WatchParams::default().timeout(KUBE_WATCH_TIMEOUT_SECS);
        let stream = match store.api().watch(&params, &version).await {
            Ok(stream) => stream,
            Err(error) => {
                tracing::warn!(%error, "watching BerthAddresses failed; retrying");
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        let mut stream = std::pin::pin!(stream);
        let mut expired = false;
        while let Some(event) = stream.next().await {
            match event {
                Ok(WatchEvent::Added(obj) | WatchEvent::Modified(obj)) => {
                    version = obj.resource_version().unwrap_or(version);
                    store.feed().put(&obj);
                    store.feed().delivered(&version);
                }
                Ok(WatchEvent::Deleted(obj)) => {
                    version = obj.resource_version().unwrap_or(version);
                    store.feed().gone(&obj);
                    store.feed().delivered(&version);
                }
                Ok(WatchEvent::Bookmark(b)) => {
                    version = b.metadata.resource_version;
                    store.feed().delivered(&version);
                }
                Ok(WatchEvent::Error(status)) => {
                    expired = status.code == 410;
                    if !expired {
                        tracing::warn!(code = status.code, message = %status.message, "BerthAddress watch error");
                    }
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, "BerthAddress watch broke; resuming");
                    break;
                }
            }
        }
        if expired {
            version = relist(&*store, pause).await;
        }
    }
}

/// A fresh list after a 410, queued as puts and one `Relisted`.
async fn relist<S: Followed>(store: &S, pause: Duration) -> String {
    loop {
        match list_all_versioned(store.api(), &ListParams::default()).await {
            Ok((objects, version)) => {
                tracing::info!(
                    objects = objects.len(),
                    "BerthAddress watch expired; re-listed"
                );
                let names = objects.iter().map(|o| o.name_any()).collect();
                // Objects this node already holds at their version
                // need no second copy in the queue.
                let unseen: Vec<&BerthAddress> = {
                    let seen = store.lock_seen();
                    objects
                        .iter()
                        .filter(|o| {
                            seen.get(&o.name_any()).map(|s| &s.resource_version)
                                != o.metadata.resource_version.as_ref()
                        })
                        .collect()
                };
                for obj in unseen {
                    store.feed().put(obj);
                }
                lock(&store.feed().queue).push(Pending::Relisted {
                    names,
                    version: version.clone(),
                });
                return version;
            }
            Err(error) => {
                tracing::warn!(%error, "re-listing BerthAddresses failed; retrying");
                tokio::time::sleep(pause).await;
            }
        }
    }
}
