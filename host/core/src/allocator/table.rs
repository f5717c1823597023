//! The held records, packed (see `packed.rs`) side by side in one byte
//! slab, and the index from an attachment to the addresses it holds.
//!
//! One slab instead of a heap block per record: 100,000 small long-lived
//! blocks, each allocated between the temporaries of the ADD that made it,
//! left berthd's malloc arenas half empty (glibc's `malloc_stats`: 108 MB
//! mapped for 60 MB in use at 100,000 allocations). The slab grows by
//! doubling and is compacted when removed records take more room than the
//! live ones.
//!
//! The attachment index is keyed by a 64-bit hash of the attachment, not
//! the attachment itself: a container id is 64 characters, and keeping a
//! second copy of it per address cost more than the packed record. Two
//! attachments whose hashes collide share an entry; every lookup compares
//! the attachment of each record it finds, so a collision costs a decode
//! and never hands one pod's address to another.

use super::holders::Holders;
use super::packed::{pack, unpack};
use super::FixedState;
use crate::limits::{RECORD_SLAB_BYTES_MAX, RECORD_SLAB_COMPACT_BYTES_MIN};
use crate::record::AddressRecord;
use berth_proto::Attachment;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::IpAddr;

/// Where a packed record lies in the slab. 32-bit offsets (the slab is
/// bounded by `RECORD_SLAB_BYTES_MAX`): an index entry is 28 bytes, not
/// 40, and there is one per held address.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
}

#[derive(Debug, Clone, Default)]
pub(super) struct RecordTable {
    spans: HashMap<IpAddr, Span, FixedState>,
    slab: Vec<u8>,
    /// Bytes of the slab that belong to removed records.
    dead_bytes: usize,
    by_attachment: HashMap<u64, Holders, FixedState>,
}

impl RecordTable {
    pub(super) fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub(super) fn get(&self, address: &IpAddr) -> Option<AddressRecord> {
        self.spans
            .get(address)
            .map(|span| unpack(*address, self.bytes(*span)))
    }

    /// Every record, decoded one at a time, in no particular order.
    pub(super) fn values(&self) -> impl Iterator<Item = AddressRecord> + '_ {
        self.spans
            .iter()
            .map(|(a, span)| unpack(*a, self.bytes(*span)))
    }

    fn bytes(&self, span: Span) -> &[u8] {
        let start = span.start as usize;
        &self.slab[start..start + span.len as usize]
    }

    /// The records `attachment` holds, checked against each record.
    pub(super) fn of_attachment(&self, attachment: &Attachment) -> Vec<AddressRecord> {
        self.by_attachment
            .get(&attachment_hash(attachment))
            .map_or(&[][..], Holders::as_slice)
            .iter()
            .filter_map(|a| self.get(a))
            .filter(|r| r.attachment.as_ref() == Some(attachment))
            .collect()
    }

    /// Stores `record`; the caller has checked that its address is free.
    pub(super) fn insert(&mut self, record: &AddressRecord) {
        let packed = pack(record);
        assert!(
            self.slab.len() + packed.len() <= RECORD_SLAB_BYTES_MAX,
            "the record slab would pass {RECORD_SLAB_BYTES_MAX} bytes"
        );
        let span = Span {
            start: offset(self.slab.len()),
            len: offset(packed.len()),
        };
        self.slab.extend_from_slice(&packed);
        let old = self.spans.insert(record.address, span);
        assert!(old.is_none(), "{} inserted twice", record.key());
        if let Some(att) = &record.attachment {
            let address = record.address;
            self.by_attachment
                .entry(attachment_hash(att))
                .and_modify(|h| h.push(address))
                .or_insert(Holders::One(address));
        }
    }

    pub(super) fn remove(&mut self, address: &IpAddr) -> Option<AddressRecord> {
        let span = self.spans.remove(address)?;
        let record = unpack(*address, self.bytes(span));
        self.dead_bytes += span.len as usize;
        if let Some(att) = &record.attachment {
            let hash = attachment_hash(att);
            if let Some(holders) = self.by_attachment.get_mut(&hash) {
                if !holders.remove(*address) {
                    self.by_attachment.remove(&hash);
                }
            }
        }
        self.compact_if_sparse();
        Some(record)
    }

    /// Rewrites the slab with only the live records once removed ones
    /// take more room than they do (and more than a minimum, so a small
    /// table is not rewritten on every DEL): amortised O(1) per removal.
    fn compact_if_sparse(&mut self) {
        let live = self.slab.len() - self.dead_bytes;
        if self.dead_bytes < RECORD_SLAB_COMPACT_BYTES_MIN || self.dead_bytes <= live {
            return;
        }
        let mut slab = Vec::with_capacity(live);
        for span in self.spans.values_mut() {
            let start = slab.len();
            let old = span.start as usize;
            slab.extend_from_slice(&self.slab[old..old + span.len as usize]);
            span.start = offset(start);
        }
        debug_assert_eq!(slab.len(), live);
        self.slab = slab;
        self.dead_bytes = 0;
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
            .map(|(h, holders)| {
                let mut v = holders.as_slice().to_vec();
                v.sort();
                (*h, v)
            })
            .collect();
        all.sort();
        all
    }
}

/// A slab offset or length, which `RECORD_SLAB_BYTES_MAX` keeps in 32 bits.
fn offset(bytes: usize) -> u32 {
    u32::try_from(bytes).expect("RECORD_SLAB_BYTES_MAX keeps slab offsets in 32 bits")
}

fn attachment_hash(attachment: &Attachment) -> u64 {
    FixedState::default().hash_one(attachment)
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
