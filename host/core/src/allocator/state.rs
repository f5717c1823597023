//! Applying mutations: the one place the allocator's state changes, and
//! where its invariants are enforced.

use super::holders::Holders;
use super::Allocator;
use crate::pool::family_of;
use crate::record::{AddressRecord, Mutation, RecordState};
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

/// Why a record cannot join the allocator's indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Clash {
    /// The record itself is malformed.
    Shape(String),
    /// Another record holds the address.
    Address(String),
    /// Its attachment or identity slot already holds another address of
    /// its family.
    Slot(String),
}

impl fmt::Display for Clash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clash::Shape(m) | Clash::Address(m) | Clash::Slot(m) => f.write_str(m),
        }
    }
}

impl Allocator {
    /// Applies mutations planned from the current state (and persisted).
    ///
    /// # Panics
    /// When a mutation breaks an invariant: two owners of an address, two
    /// addresses of one family for an attachment or an identity slot, or
    /// removing a record that does not exist. That is only possible when
    /// the mutations were not planned from this state — a bug that must
    /// stop the daemon rather than hand an address out twice.
    pub fn apply(&mut self, mutations: &[Mutation]) {
        for mutation in mutations {
            match mutation {
                Mutation::Put(record) => {
                    if let Some(old) = self.records.get(&record.address) {
                        assert_eq!(
                            old.pool, record.pool,
                            "Put moves {} between pools",
                            record.address
                        );
                        self.remove_record(record.address);
                    } else if let Some(i) = self.pool_covering(&record.pool, record.address) {
                        // A newly held address: search on after it next.
                        let off = self.pools[i].offset_of(record.address).unwrap_or_default();
                        self.cursors[i] = off.checked_add(1).unwrap_or(0);
                        self.spread_step = self.spread_step.wrapping_add(1);
                    }
                    if let Err(problem) = self.insert_record(record.clone()) {
                        panic!(
                            "allocator invariant violated by Put {}: {problem}",
                            record.key()
                        );
                    }
                }
                Mutation::Remove { pool, address } => {
                    let held = self.records.get(address).map(|r| r.pool);
                    assert_eq!(
                        held.as_deref(),
                        Some(pool.as_str()),
                        "Remove of {pool}/{address}, which is not held"
                    );
                    if let Some(gone) = self.remove_record(*address) {
                        self.note_retained_release(&gone.state, *address);
                    }
                }
            }
        }
    }

    /// Adds a record to every index after checking it against them; on
    /// error nothing changed.
    pub(super) fn insert_record(&mut self, record: AddressRecord) -> Result<(), Clash> {
        self.check_address(&record)?;
        let family = record.family();
        if let Some(att) = &record.attachment {
            let taken = self.records.of_attachment(att);
            if let Some(a) = taken
                .iter()
                .map(|r| r.address)
                .find(|a| family_of(a) == family)
            {
                return Err(Clash::Slot(format!(
                    "attachment {}/{} already holds {a}",
                    att.container_id, att.ifname
                )));
            }
        }
        if let Some(key) = record.identity_key() {
            // The identity's other records say which interface and family
            // each holds: one or two decodes, instead of a copy per slot.
            let held = self.by_identity.get(key).map_or(&[][..], Holders::as_slice);
            if let Some(same) = held
                .iter()
                .filter_map(|a| self.records.get(a))
                .find(|r| r.interface == record.interface && r.family() == family)
            {
                return Err(Clash::Slot(format!(
                    "identity {key} already holds {} on {}",
                    same.address, same.interface
                )));
            }
        }
        self.hold(&record);
        if let Some(key) = record.identity_key() {
            match self.by_identity.entry(key.into()) {
                Entry::Occupied(held) => held.into_mut().push(record.address),
                Entry::Vacant(none) => {
                    none.insert(Holders::One(record.address));
                }
            }
        }
        if let Some(at) = expiry(&record) {
            self.expiries.insert((at, record.address));
        }
        self.records.insert(&record);
        Ok(())
    }

    /// Holds a record that lost its slot to another (see `restore.rs`):
    /// its address stays taken and counted, but no slot index, expiry or
    /// DEL reaches it; only its release does.
    pub(super) fn insert_superseded(&mut self, record: AddressRecord) -> Result<(), Clash> {
        self.check_address(&record)?;
        self.hold(&record);
        self.superseded.insert(record.address);
        self.records.insert(&record);
        Ok(())
    }

    fn check_address(&self, record: &AddressRecord) -> Result<(), Clash> {
        record.check_shape().map_err(Clash::Shape)?;
        match self.records.get(&record.address) {
            Some(other) => Err(Clash::Address(format!(
                "address already held by {}",
                other.key()
            ))),
            None => Ok(()),
        }
    }

    /// Takes the record's address out of the free index and counts it.
    fn hold(&mut self, record: &AddressRecord) {
        if let Some(i) = self.pool_covering(&record.pool, record.address) {
            let off = self.pools[i].offset_of(record.address).unwrap_or_default();
            self.free[i].hold(off);
        } else if let Some(i) = self.reserved_in(&record.pool, record.address) {
            self.reserved_held[i] += 1;
        }
        *self
            .namespace_used
            .entry((record.pool.clone(), record.pod.namespace.clone()))
            .or_default() += 1;
        if !self
            .pool(&record.pool)
            .is_some_and(|p| p.is_assignable(record.address))
        {
            self.misplaced.insert((record.pool.clone(), record.address));
        }
        if !record.is_attached() {
            *self
                .retained_by_pool
                .entry(record.pool.clone())
                .or_default() += 1;
        }
    }

    /// Re-inserts `record` into a fresh allocator the way it was held here.
    pub(super) fn reinsert_into(
        &self,
        fresh: &mut Allocator,
        record: AddressRecord,
    ) -> Result<(), Clash> {
        if self.superseded.contains(&record.address) {
            fresh.insert_superseded(record)
        } else {
            fresh.insert_record(record)
        }
    }

    pub(super) fn remove_record(&mut self, address: IpAddr) -> Option<AddressRecord> {
        let record = self.records.remove(&address)?;
        self.superseded.remove(&address);
        if let Some(i) = self.pool_covering(&record.pool, address) {
            let off = self.pools[i].offset_of(address).unwrap_or_default();
            self.free[i].release(off);
        } else if let Some(i) = self.reserved_in(&record.pool, address) {
            self.reserved_held[i] -= 1;
        }
        if let Some(key) = record.identity_key() {
            if let Some(held) = self.by_identity.get_mut(key) {
                if !held.remove(address) {
                    self.by_identity.remove(key);
                }
            }
        }
        self.misplaced.remove(&(record.pool.clone(), address));
        if !record.is_attached() {
            if let Some(n) = self.retained_by_pool.get_mut(&record.pool) {
                *n -= 1;
                if *n == 0 {
                    self.retained_by_pool.remove(&record.pool);
                }
            }
        }
        let ns_key = (record.pool.clone(), record.pod.namespace.clone());
        if let Some(n) = self.namespace_used.get_mut(&ns_key) {
            *n -= 1;
            if *n == 0 {
                self.namespace_used.remove(&ns_key);
            }
        }
        if let Some(at) = expiry(&record) {
            self.expiries.remove(&(at, address));
        }
        Some(record)
    }

    /// Recomputes every index from the records and compares; for tests and
    /// the simulation (O(n)).
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut rebuilt = Allocator::default();
        rebuilt
            .configure(self.pools.clone(), self.reserved.clone())
            .map_err(|e| e.to_string())?;
        for record in self.records.values() {
            self.reinsert_into(&mut rebuilt, record)
                .map_err(|c| c.to_string())?;
        }
        let sorted = |m: &HashMap<Box<str>, Holders>| {
            let mut v: Vec<(Box<str>, IpAddr)> = m
                .iter()
                .flat_map(|(k, h)| h.as_slice().iter().map(move |a| (k.clone(), *a)))
                .collect();
            v.sort();
            v
        };
        let checks = [
            (
                "identity index",
                sorted(&rebuilt.by_identity) == sorted(&self.by_identity),
            ),
            (
                "attachment index",
                rebuilt.records.attachment_index() == self.records.attachment_index(),
            ),
            (
                "namespace counts",
                rebuilt.namespace_used == self.namespace_used,
            ),
            ("expiries", rebuilt.expiries == self.expiries),
            ("superseded", rebuilt.superseded == self.superseded),
            ("misplaced", rebuilt.misplaced == self.misplaced),
            (
                "retained counts",
                rebuilt.retained_by_pool == self.retained_by_pool,
            ),
            ("pool usage", rebuilt.pool_usage() == self.pool_usage()),
        ];
        match checks.iter().find(|(_, ok)| !ok) {
            Some((what, _)) => Err(format!("{what} differs from the records")),
            None => Ok(()),
        }
    }
}

fn expiry(record: &AddressRecord) -> Option<u64> {
    match record.state {
        RecordState::Retained {
            expires_at_unix_secs,
            ..
        } => expires_at_unix_secs,
        RecordState::Attached => None,
    }
}
