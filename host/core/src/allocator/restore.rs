//! Rebuilding the allocator from a store's records, and repairing what a
//! partial write can leave behind.
//!
//! The embedded store commits a batch atomically, but the Kubernetes store
//! writes one object per request: a crash or an API outage between the
//! writes of one batch can leave two records in one slot — an identity
//! moved to a new pool whose old record was not yet deleted, or an ADD
//! whose rollback failed. Refusing to start on that would stop every node
//! (each one loads every record), so such a clash is repaired instead, the
//! same way on every node because the rule reads nothing but the records:
//!
//! * the record kept is the attached one, else the newest
//!   (`created_at_unix_secs`), else the lowest address;
//! * the other is *superseded*: its address stays held (nobody else may
//!   take it while its object exists) and its owning node releases it.
//!
//! Anything else that contradicts itself (two records of one address, a
//! malformed record) is refused: no crash produces it, and guessing could
//! hand an address out twice.

use super::state::Clash;
use super::{Allocator, NodeScope};
use crate::error::RestoreError;
use crate::record::{AddressRecord, Mutation};
use std::cmp::Reverse;

/// A record that lost its slot at restore, and the record that kept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superseded {
    pub record: String,
    pub node: String,
    pub kept: String,
    pub reason: String,
}

/// What a restore found besides the records it took as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restored {
    /// Records of pools that are gone (kept until released).
    pub orphaned: Vec<String>,
    /// Slot clashes repaired by the rule above.
    pub superseded: Vec<Superseded>,
}

impl Allocator {
    /// Rebuilds the allocator from the store's records (at start, and on
    /// every refresh in Kubernetes mode). Slot clashes are repaired (see
    /// the module doc); records that cannot both be true are refused.
    pub fn restore(&mut self, records: Vec<AddressRecord>) -> Result<Restored, RestoreError> {
        let mut fresh = Allocator::default();
        if let Err(e) = fresh.configure(self.pools.clone(), self.reserved.clone()) {
            return Err(RestoreError {
                problems: vec![e.to_string()],
            });
        }
        let mut problems = Vec::new();
        if !self.records.is_empty() {
            problems.push("restore into an allocator that already holds records".to_owned());
        }
        let mut records = records;
        // Keepers first, so the record inserted first wins its slot.
        records.sort_by_key(|r| (!r.is_attached(), Reverse(r.created_at_unix_secs), r.address));
        let mut superseded = Vec::new();
        let mut losers = Vec::new();
        for record in records {
            let key = record.key();
            match fresh.insert_record(record.clone()) {
                Ok(()) => {}
                Err(Clash::Slot(reason)) => losers.push((record, reason)),
                Err(problem) => problems.push(format!("{key}: {problem}")),
            }
        }
        for (record, reason) in losers {
            let key = record.key();
            let kept = fresh.slot_holder(&record).unwrap_or_default();
            let node = record.node.clone();
            match fresh.insert_superseded(record) {
                Ok(()) => superseded.push(Superseded {
                    record: key,
                    node,
                    kept,
                    reason,
                }),
                Err(problem) => problems.push(format!("{key}: {problem}")),
            }
        }
        if !problems.is_empty() {
            return Err(RestoreError { problems });
        }
        fresh.spread_seed = self.spread_seed;
        *self = fresh;
        let orphaned = self.orphaned().iter().map(|r| r.key()).collect();
        Ok(Restored {
            orphaned,
            superseded,
        })
    }

    /// The key of the record holding the slot `record` lost.
    fn slot_holder(&self, record: &AddressRecord) -> Option<String> {
        let family = record.family();
        let same_family = |r: &AddressRecord| r.family() == family && r.address != record.address;
        if let Some(att) = &record.attachment {
            if let Some(r) = self
                .records_of_attachment(att)
                .into_iter()
                .find(same_family)
            {
                return Some(r.key());
            }
        }
        let key = record.identity_key()?;
        self.records_of_identity(key)
            .into_iter()
            .filter(|r| r.interface == record.interface)
            .find(same_family)
            .map(|r| r.key())
    }

    /// Releases the superseded records of the nodes in `scope`: each is
    /// released by one node, like every release a node starts itself.
    pub fn plan_release_superseded(&self, scope: &NodeScope) -> Vec<Mutation> {
        self.superseded
            .iter()
            .filter_map(|a| self.records.get(a))
            .filter(|r| scope.covers(&r.node))
            .map(|r| Mutation::Remove {
                pool: r.pool.clone(),
                address: r.address,
            })
            .collect()
    }

    /// How many records are superseded and not yet released.
    pub fn superseded_count(&self) -> usize {
        self.superseded.len()
    }
}
