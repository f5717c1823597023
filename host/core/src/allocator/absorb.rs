//! Taking in what other writers changed, one record at a time (the
//! Kubernetes store's watch feed), instead of rebuilding from every record
//! of the cluster on each refresh.
//!
//! A change is the record as the store now holds it (`Put`) or its
//! removal (`Remove`). Changes come from the store, not from a plan of
//! this allocator, so unlike [`Allocator::apply`] they may contradict the
//! current state; they never panic:
//!
//! * a `Put` replaces whatever record held the address (the store's name
//!   uniqueness gives an address one object, so the newer version wins);
//! * a `Remove` of an address held by another pool's record, or not held,
//!   changes nothing;
//! * a `Put` that clashes with another record's slot (a partial write of
//!   another node; see `restore.rs`) falls back to a restore over the
//!   records with every change applied, so every node settles such a clash
//!   by the same rule, exactly as a full reload would.

use super::Allocator;
use crate::error::RestoreError;
use crate::record::{AddressRecord, Mutation};
use std::collections::HashMap;
use std::net::IpAddr;

/// What [`Allocator::absorb`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Absorbed {
    /// Records put or removed (an unchanged `Put` does not count).
    pub changed: usize,
    /// Whether a slot clash made it rebuild (then `superseded` is what the
    /// restore found).
    pub rebuilt: bool,
    pub superseded: Vec<super::Superseded>,
}

impl Allocator {
    /// Applies `changes` made by other writers. On error (records that
    /// cannot all be true, which [`Allocator::restore`] refuses too) the
    /// changes before the one that clashed stay applied and the rest are
    /// not: the caller reloads every record.
    pub fn absorb(&mut self, changes: Vec<Mutation>) -> Result<Absorbed, RestoreError> {
        let mut absorbed = Absorbed::default();
        let mut rest = changes.into_iter();
        while let Some(change) = rest.next() {
            match change {
                Mutation::Remove { pool, address } => {
                    if self.records.get(&address).is_some_and(|r| r.pool == pool) {
                        self.remove_record(address);
                        absorbed.changed += 1;
                    }
                }
                Mutation::Put(record) => {
                    if self.records.get(&record.address).as_ref() == Some(&record) {
                        continue;
                    }
                    let old = self.remove_record(record.address);
                    if self.insert_record(record.clone()).is_ok() {
                        absorbed.changed += 1;
                        continue;
                    }
                    // A slot clash: settle it as a restore does, over the
                    // records with this and every later change applied.
                    let mut pending = vec![Mutation::Put(record)];
                    pending.extend(rest);
                    let result = self.rebuild_with(old.clone(), pending, absorbed.changed);
                    if result.is_err() {
                        if let Some(old) = old {
                            self.reinsert_old(old);
                        }
                    }
                    return result;
                }
            }
        }
        Ok(absorbed)
    }

    /// Re-holds a record `absorb` took out before a rebuild that failed.
    fn reinsert_old(&mut self, old: AddressRecord) {
        if let Err(clash) = self.insert_record(old.clone()) {
            // It held its address a moment ago, so only its slot can
            // clash (it was superseded): it stays held as superseded.
            if self.insert_superseded(old).is_err() {
                debug_assert!(false, "record taken out by absorb cannot return: {clash}");
            }
        }
    }

    /// A restore over the current records (and `taken_out`, the version
    /// the failed `Put` replaced) with `pending` applied.
    fn rebuild_with(
        &mut self,
        taken_out: Option<AddressRecord>,
        pending: Vec<Mutation>,
        changed: usize,
    ) -> Result<Absorbed, RestoreError> {
        let mut records: HashMap<IpAddr, AddressRecord> = self
            .records
            .values()
            .chain(taken_out)
            .map(|r| (r.address, r))
            .collect();
        let mut count = changed;
        for change in pending {
            match change {
                Mutation::Put(r) => {
                    count += 1;
                    records.insert(r.address, r);
                }
                Mutation::Remove { pool, address } => {
                    if records.get(&address).is_some_and(|r| r.pool == pool) {
                        count += 1;
                        records.remove(&address);
                    }
                }
            }
        }
        let mut fresh = Allocator::default();
        // The reservations come along: a rebuild without them would hand
        // reserved addresses out until the next pool sync.
        fresh
            .configure(self.pools.clone(), self.reserved.clone())
            .map_err(|e| RestoreError {
                problems: vec![e.to_string()],
            })?;
        fresh.spread_seed = self.spread_seed;
        let restored = fresh.restore(records.into_values().collect())?;
        *self = fresh;
        Ok(Absorbed {
            changed: count,
            rebuilt: true,
            superseded: restored.superseded,
        })
    }
}
