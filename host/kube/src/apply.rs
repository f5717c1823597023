//! Writing one batch of mutations as per-object requests.
//!
//! Kubernetes has no transaction across objects, so a batch is written in
//! an order that keeps every intermediate state safe:
//!
//! 1. **creates** (addresses new to this node): each one takes its address
//!    by name; AlreadyExists means another node holds it → `Conflict`;
//! 2. **replaces** (records this node has seen), with their last seen
//!    resourceVersion → `Conflict` if someone changed them since;
//! 3. **removes**, with a resourceVersion and uid precondition (an object
//!    already gone counts as removed).
//!
//! When any write fails, the creates already made by the batch are deleted
//! again (uid precondition) before the error is returned, so a failed ADD
//! does not keep new addresses, and an identity never ends up holding both
//! its old address (whose remove failed) and its new one.
//!
//! What a crash or a failed write (and failed rollback) can leave behind,
//! and who cleans it up:
//! * an identity or attachment slot holding two records — a move whose
//!   create landed and whose delete did not, or an ADD whose rollback
//!   failed. Every node's restore repairs it the same way (keep the
//!   attached or newest record, hold the other as *superseded*; see
//!   `berth_core::allocator::restore`), and the node that wrote the
//!   superseded record (or the node that adopted a dead one) deletes it on
//!   its next refresh. No node refuses to start on it.
//! * an attached record of an ADD that was answered with an error, alone
//!   in its slots: the runtime's retried ADD of that container finds it,
//!   and the node's CNI GC (or the cluster GC once the pod is gone)
//!   releases it otherwise.
//! * replaces done before a later failure stay done: the re-bound record
//!   names the attachment of the failed ADD, reclaimed or reused the same
//!   way.
//!
//! None of these is an address with two owners: ownership is the object
//! name, and no path writes an address it did not create or last read.
//!
//! Before creating a record bound to an identity, the store lists that
//! identity's objects (`berth.io/identity-hash`): if another node wrote a
//! record of the same identity slot that this node has not seen, the batch
//! is a `Conflict` — the caller refreshes and its policy then sees (and
//! normally re-binds) the existing address instead of binding a second one.

use crate::convert::{address_record, berth_address};
use crate::crd_address::BerthAddress;
use crate::names::{address_object_name, identity_hash, LABEL_IDENTITY_HASH};
use crate::retry::{with_retries, Failure};
use crate::seen::{seen_of, Seen};
use crate::store::Inner;
use berth_core::record::{AddressRecord, Mutation};
use berth_core::store::StoreError;
use kube::api::{DeleteParams, ListParams, PostParams, Preconditions};
use kube::ResourceExt;
use std::sync::atomic::Ordering;

enum Write {
    Create(Box<BerthAddress>, Box<AddressRecord>),
    Replace(Box<BerthAddress>),
    Remove(String, Seen),
}

/// A batch sorted into the order it is written in.
struct Batch {
    creates: Vec<Write>,
    replaces: Vec<Write>,
    removes: Vec<Write>,
}

impl Inner {
    pub(crate) async fn apply(&self, mutations: &[Mutation]) -> Result<(), StoreError> {
        let Batch {
            creates,
            replaces,
            removes,
        } = self.plan(mutations)?;
        let mut created: Vec<(String, Seen)> = Vec::new();
        let mut outcome = Ok(());
        for write in creates.into_iter().chain(replaces).chain(removes) {
            outcome = match write {
                Write::Create(obj, record) => self.create(*obj, &record, &mut created).await,
                Write::Replace(obj) => self.replace(*obj).await,
                Write::Remove(name, seen) => self.remove(&name, &seen).await,
            };
            if outcome.is_err() {
                break;
            }
        }
        if outcome.is_err() {
            self.roll_back(created).await;
        }
        outcome
    }

    /// Sorts the batch into creates, replaces and removes.
    fn plan(&self, mutations: &[Mutation]) -> Result<Batch, StoreError> {
        let seen = self.lock_seen();
        let (mut creates, mut replaces, mut removes) = (Vec::new(), Vec::new(), Vec::new());
        for m in mutations {
            match m {
                Mutation::Put(record) => {
                    let mut obj = berth_address(record, &self.node);
                    let name = obj.name_any();
                    match seen.get(&name) {
                        Some(s) => {
                            obj.metadata.resource_version = Some(s.resource_version.clone());
                            replaces.push(Write::Replace(Box::new(obj)));
                        }
                        None => {
                            creates.push(Write::Create(Box::new(obj), Box::new(record.clone())))
                        }
                    }
                }
                Mutation::Remove { pool, address } => {
                    let name = address_object_name(pool, *address);
                    let s = seen
                        .get(&name)
                        .cloned()
                        .ok_or_else(|| StoreError::Conflict {
                            message: format!(
                                "remove of {pool}/{address}, which this node has not seen stored"
                            ),
                        })?;
                    removes.push(Write::Remove(name, s));
                }
            }
        }
        Ok(Batch {
            creates,
            replaces,
            removes,
        })
    }

    async fn create(
        &self,
        obj: BerthAddress,
        record: &AddressRecord,
        created: &mut Vec<(String, Seen)>,
    ) -> Result<(), StoreError> {
        let name = obj.name_any();
        self.check_identity(record).await?;
        let params = PostParams::default();
        let attempt = with_retries(|| self.api.create(&params, &obj)).await;
        self.counters.creates.fetch_add(1, Ordering::Relaxed);
        let stored = match attempt.result {
            Ok(stored) => stored,
            Err(Failure::Api(s)) if s.is_already_exists() => {
                // An earlier attempt may have created it without our
                // seeing the answer: then the object is ours.
                match self.ours_after_ambiguity(attempt.ambiguous, &obj).await {
                    Some(stored) => stored,
                    None => {
                        self.reread(&name).await;
                        return Err(StoreError::Conflict {
                            message: format!(
                                "{}/{} is held by another node (berthaddresses/{name} exists)",
                                record.pool, record.address
                            ),
                        });
                    }
                }
            }
            Err(e) => return Err(backend("create", &name, e)),
        };
        let seen = seen_of(&stored);
        self.lock_seen().insert(name.clone(), seen.clone());
        created.push((name, seen));
        self.crash_point.wrote();
        Ok(())
    }

    async fn replace(&self, obj: BerthAddress) -> Result<(), StoreError> {
        let name = obj.name_any();
        let params = PostParams::default();
        let attempt = with_retries(|| self.api.replace(&name, &params, &obj)).await;
        self.counters.replaces.fetch_add(1, Ordering::Relaxed);
        let stored = match attempt.result {
            Ok(stored) => stored,
            Err(Failure::Api(s)) if s.is_conflict() || s.is_not_found() => {
                match self.ours_after_ambiguity(attempt.ambiguous, &obj).await {
                    Some(stored) => stored,
                    None => {
                        self.reread(&name).await;
                        return Err(StoreError::Conflict {
                            message: format!(
                                "berthaddresses/{name} changed since this node read it ({} {})",
                                s.code, s.reason
                            ),
                        });
                    }
                }
            }
            Err(e) => return Err(backend("replace", &name, e)),
        };
        self.lock_seen().insert(name, seen_of(&stored));
        self.crash_point.wrote();
        Ok(())
    }

    async fn remove(&self, name: &str, seen: &Seen) -> Result<(), StoreError> {
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                resource_version: Some(seen.resource_version.clone()),
                uid: Some(seen.uid.clone()),
            }),
            ..DeleteParams::default()
        };
        let attempt = with_retries(|| self.api.delete(name, &params)).await;
        self.counters.deletes.fetch_add(1, Ordering::Relaxed);
        match attempt.result {
            // Already gone (by us, on an earlier attempt, or by GC): the
            // goal of the remove holds.
            Ok(_) => {}
            Err(Failure::Api(s)) if s.is_not_found() => {}
            Err(Failure::Api(s)) if s.is_conflict() => {
                self.reread(name).await;
                return Err(StoreError::Conflict {
                    message: format!("berthaddresses/{name} changed since this node read it"),
                });
            }
            Err(e) => return Err(backend("delete", name, e)),
        }
        self.lock_seen().remove(name);
        self.feed.deleted(name, &seen.resource_version);
        self.crash_point.wrote();
        Ok(())
    }

    /// Refuses to create a record for an identity slot that already has a
    /// record this node has not seen (written by another node).
    async fn check_identity(&self, record: &AddressRecord) -> Result<(), StoreError> {
        let Some(key) = record.identity_key() else {
            return Ok(());
        };
        self.counters
            .identity_checks
            .fetch_add(1, Ordering::Relaxed);
        let params =
            ListParams::default().labels(&format!("{LABEL_IDENTITY_HASH}={}", identity_hash(key)));
        let list = with_retries(|| self.api.list(&params))
            .await
            .result
            .map_err(|e| backend("list", "berthaddresses", e))?;
        let seen = self.lock_seen();
        for obj in &list.items {
            let unseen = !seen.contains_key(&obj.name_any());
            let same_slot = address_record(obj).is_ok_and(|r| {
                r.identity_key() == Some(key)
                    && r.interface == record.interface
                    && r.family() == record.family()
                    && r.address != record.address
            });
            if unseen && same_slot {
                // The caller refreshes next: hand it this record, read
                // already, instead of waiting for the watch.
                if self.feed.following() {
                    self.feed.put(obj);
                }
                return Err(StoreError::Conflict {
                    message: format!(
                        "identity {key} already holds berthaddresses/{} (written by {}), not yet seen here",
                        obj.name_any(),
                        obj.spec.node
                    ),
                });
            }
        }
        Ok(())
    }

    /// After a lost race on `name`: reads that one object and queues it
    /// for the caller's refresh (`crate::feed`), so the re-plan sees it
    /// without a list of the cluster or a wait for the watch. One GET.
    async fn reread(&self, name: &str) {
        if !self.feed.following() {
            // Re-listing stores refresh by listing everything anyway.
            return;
        }
        self.counters.rereads.fetch_add(1, Ordering::Relaxed);
        match with_retries(|| self.api.get_opt(name)).await.result {
            Ok(Some(current)) => self.feed.put(&current),
            Ok(None) => {
                let held = self
                    .lock_seen()
                    .get(name)
                    .map(|s| s.resource_version.clone());
                if let Some(version) = held {
                    self.feed.vanished(name, version);
                }
            }
            // The refresh goes on with what the watch brings; the retry
            // races on the name again.
            Err(error) => {
                tracing::warn!(object = %name, %error, "re-reading a contended BerthAddress failed")
            }
        }
    }

    /// After a write that may have reached the server before failing,
    /// whether the object now is exactly what we wrote.
    async fn ours_after_ambiguity(
        &self,
        ambiguous: bool,
        ours: &BerthAddress,
    ) -> Option<BerthAddress> {
        if !ambiguous {
            return None;
        }
        let name = ours.name_any();
        let current = with_retries(|| self.api.get(&name)).await.result.ok()?;
        (current.spec == ours.spec).then_some(current)
    }

    async fn roll_back(&self, created: Vec<(String, Seen)>) {
        for (name, seen) in created {
            self.counters.rollbacks.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = self.remove(&name, &seen).await {
                tracing::warn!(object = %name, error = %e,
                    "rollback of a create failed; GC reclaims the leaked record");
            }
        }
    }
}

fn backend(verb: &'static str, name: &str, e: Failure) -> StoreError {
    StoreError::Backend {
        operation: verb,
        message: format!("berthaddresses/{name}: {e}"),
    }
}
