//! The held records, packed (see `packed.rs`), and the index from an
//! attachment to the addresses it holds.
//!
//! The attachment index is keyed by a 64-bit hash of the attachment, not
//! the attachment itself: a container id is 64 characters, and keeping a
//! second copy of it per address cost more than the packed record. Two
//! attachments whose hashes collide share an entry; every lookup compares
//! the attachment of each record it finds, so a collision costs a decode
//! and never hands one pod's address to another.

use super::packed::{pack, unpack};
use super::FixedState;
use crate::record::AddressRecord;
use berth_proto::Attachment;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::IpAddr;

#[derive(Debug, Clone, Default)]
pub(super) struct RecordTable {
    packed: HashMap<IpAddr, Box<[u8]>, FixedState>,
    by_attachment: HashMap<u64, Vec<IpAddr>, FixedState>,
}

impl RecordTable {
    pub(super) fn len(&self) -> usize {
        self.packed.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.packed.is_empty()
    }

    pub(super) fn contains(&self, address: &IpAddr) -> bool {
        self.packed.contains_key(address)
    }

    pub(super) fn get(&self, address: &IpAddr) -> Option<AddressRecord> {
        self.packed.get(address).map(|b| unpack(*address, b))
    }

    /// Every record, decoded one at a time, in no particular order.
    pub(super) fn values(&self) -> impl Iterator<Item = AddressRecord> + '_ {
        self.packed.iter().map(|(a, b)| unpack(*a, b))
    }

    /// The records `attachment` holds, checked against each record.
    pub(super) fn of_attachment(&self, attachment: &Attachment) -> Vec<AddressRecord> {
        self.by_attachment
            .get(&attachment_hash(attachment))
            .into_iter()
            .flatten()
            .filter_map(|a| self.get(a))
            .filter(|r| r.attachment.as_ref() == Some(attachment))
            .collect()
    }

    /// Stores `record`; the caller has checked that its address is free.
    pub(super) fn insert(&mut self, record: &AddressRecord) {
        let old = self.packed.insert(record.address, pack(record));
        assert!(old.is_none(), "{} inserted twice", record.key());
        if let Some(att) = &record.attachment {
            self.by_attachment
                .entry(attachment_hash(att))
                .or_default()
                .push(record.address);
        }
    }

    pub(super) fn remove(&mut self, address: &IpAddr) -> Option<AddressRecord> {
        let record = unpack(*address, &self.packed.remove(address)?);
        if let Some(att) = &record.attachment {
            let hash = attachment_hash(att);
            if let Some(list) = self.by_attachment.get_mut(&hash) {
                list.retain(|a| a != address);
                if list.is_empty() {
                    self.by_attachment.remove(&hash);
                }
            }
        }
        Some(record)
    }

    /// Takes every record out, leaving the table empty.
    pub(super) fn drain(&mut self) -> Vec<AddressRecord> {
        let records = self.values().collect();
        *self = RecordTable::default();
        records
    }

    /// The attachment index, sorted, for `check_invariants`.
    pub(super) fn attachment_index(&self) -> Vec<(u64, Vec<IpAddr>)> {
        let mut all: Vec<(u64, Vec<IpAddr>)> = self
            .by_attachment
            .iter()
            .map(|(h, v)| {
                let mut v = v.clone();
                v.sort();
                (*h, v)
            })
            .collect();
        all.sort();
        all
    }
}

fn attachment_hash(attachment: &Attachment) -> u64 {
    FixedState::default().hash_one(attachment)
}
