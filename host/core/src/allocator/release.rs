//! Planning releases: DEL, GC, expiry of retained bindings, retirement of
//! identities, and the operator's explicit release.

use super::{Allocator, NodeScope};
use crate::error::AllocError;
use crate::record::{AddressRecord, Mutation, RecordState};
use berth_policy_sdk::Retention;
use berth_proto::Attachment;
use std::collections::HashSet;
use std::net::IpAddr;

impl Allocator {
    /// DEL: each address of the attachment is freed or retained for its
    /// identity, as the identity's retention says. Idempotent: an unknown
    /// attachment plans nothing.
    pub fn plan_del(&self, attachment: &Attachment, now_unix_secs: u64) -> Vec<Mutation> {
        self.records_of_attachment(attachment)
            .into_iter()
            .map(|r| detach(&r, now_unix_secs))
            .collect()
    }

    /// GC: releases (as DEL would) every attachment of `network` that is not
    /// in `valid`, among the records of the nodes in `scope`: the runtime's
    /// `valid` list names only its own node's containers, so another node's
    /// attachment missing from it says nothing about that attachment.
    pub fn plan_gc(
        &self,
        network: &str,
        valid: &[Attachment],
        scope: &NodeScope,
        now_unix_secs: u64,
    ) -> Vec<Mutation> {
        let valid: HashSet<&Attachment> = valid.iter().collect();
        // Every record is decoded: the runtime's GC is rare (containerd
        // runs it at start-up), and a node holds hundreds, not millions.
        let mut gone: Vec<AddressRecord> = self
            .records
            .values()
            .filter(|r| r.attachment.as_ref().is_some_and(|a| !valid.contains(a)))
            .filter(|r| r.network == network && scope.covers(&r.node))
            .collect();
        // Same plan whatever the map's iteration order.
        gone.sort_by_key(|r| r.address);
        gone.into_iter()
            .map(|r| {
                assert!(scope.covers(&r.node), "GC beyond its scope: {}", r.key());
                detach(&r, now_unix_secs)
            })
            .collect()
    }

    /// Frees retained addresses of the nodes in `scope` whose expiry is at
    /// or before `now`: each record is expired by one node only.
    pub fn plan_expire(&self, scope: &NodeScope, now_unix_secs: u64) -> Vec<Mutation> {
        self.expiries
            .iter()
            .take_while(|(at, _)| *at <= now_unix_secs)
            .filter_map(|(_, a)| self.records.get(a))
            .filter(|r| scope.covers(&r.node))
            .map(|r| remove(&r))
            .collect()
    }

    /// The identity is gone for good (owner deleted, ordinal scaled away,
    /// operator release): `KeepUntilRetired(grace)` bindings now last
    /// `grace` more seconds. An attached one keeps running and is retained
    /// for `grace` after its DEL.
    pub fn plan_retire_identity(&self, key: &str, now_unix_secs: u64) -> Vec<Mutation> {
        let mut out = Vec::new();
        for r in self.records_of_identity(key) {
            let Retention::KeepUntilRetired(grace) = r.retention() else {
                continue;
            };
            match r.state {
                RecordState::Attached => {
                    let mut next = r.clone();
                    if let Some(identity) = &mut next.identity {
                        identity.retention = Retention::KeepForSecs(grace);
                    }
                    out.push(Mutation::Put(next));
                }
                RecordState::Retained {
                    since_unix_secs,
                    expires_at_unix_secs: None,
                } => {
                    if grace == 0 {
                        out.push(remove(&r));
                    } else {
                        let mut next = r.clone();
                        next.state = RecordState::Retained {
                            since_unix_secs,
                            expires_at_unix_secs: Some(now_unix_secs.saturating_add(grace)),
                        };
                        out.push(Mutation::Put(next));
                    }
                }
                RecordState::Retained { .. } => {}
            }
        }
        out
    }

    /// The operator frees one address, whatever holds it.
    pub fn plan_release(&self, pool: &str, address: IpAddr) -> Result<Vec<Mutation>, AllocError> {
        match self.records.get(&address) {
            Some(r) if r.pool == pool => Ok(vec![remove(&r)]),
            _ => Err(AllocError::NotFound {
                pool: pool.to_owned(),
                address,
            }),
        }
    }
}

fn remove(r: &AddressRecord) -> Mutation {
    Mutation::Remove {
        pool: r.pool.clone(),
        address: r.address,
    }
}

/// What DEL does to one record.
fn detach(r: &AddressRecord, now: u64) -> Mutation {
    let expires_at_unix_secs = match r.retention() {
        Retention::ReleaseOnDelete | Retention::KeepForSecs(0) => return remove(r),
        Retention::KeepForSecs(secs) => Some(now.saturating_add(secs)),
        Retention::KeepUntilRetired(_) => None,
    };
    // Only attachments are released, and only attached records have one.
    assert!(r.is_attached(), "releasing retained {}", r.key());
    let mut next = r.clone();
    next.attachment = None;
    next.state = RecordState::Retained {
        since_unix_secs: now,
        expires_at_unix_secs,
    };
    Mutation::Put(next)
}
