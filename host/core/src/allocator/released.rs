//! When pods let go of addresses, for policies that let an address cool
//! down before it is reused (`released-at` of contract 0.2).
//!
//! A retained address carries its own time (its record's `since`); a freed
//! one has no record left, so the allocator remembers the time here. The
//! memory is bounded (the oldest entries go first) and in memory only: a
//! restart forgets, which a cooldown policy reads as "not recently
//! released" — the same as an address nobody ever held.

use super::{Allocator, FixedState};
use crate::limits::RELEASE_TIMES_MAX;
use crate::record::{Mutation, RecordState};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// Release times of freed addresses, the newest [`RELEASE_TIMES_MAX`].
#[derive(Debug, Clone, Default)]
pub(super) struct ReleaseTimes {
    at: HashMap<IpAddr, u64, FixedState>,
    /// Addresses in the order they were first noted: the eviction order.
    order: VecDeque<IpAddr>,
}

impl ReleaseTimes {
    fn note(&mut self, address: IpAddr, at_unix_secs: u64) {
        if self.at.insert(address, at_unix_secs).is_none() {
            self.order.push_back(address);
        }
        while self.order.len() > RELEASE_TIMES_MAX {
            if let Some(old) = self.order.pop_front() {
                self.at.remove(&old);
            }
        }
    }

    fn get(&self, address: IpAddr) -> Option<u64> {
        self.at.get(&address).copied()
    }
}

impl Allocator {
    /// [`Allocator::apply`], remembering `now_unix_secs` as the release
    /// time of every address an attached record lets go of (a DEL or GC
    /// that frees it). The daemon applies its own plans this way; records
    /// other nodes removed (Kubernetes watch) come through `apply` and keep
    /// no time.
    pub fn apply_at(&mut self, mutations: &[Mutation], now_unix_secs: u64) {
        let freed: Vec<IpAddr> = mutations
            .iter()
            .filter_map(|m| match m {
                Mutation::Remove { address, .. } => self
                    .records
                    .get(address)
                    .filter(|r| r.state == RecordState::Attached)
                    .map(|r| r.address),
                Mutation::Put(_) => None,
            })
            .collect();
        self.apply(mutations);
        for address in freed {
            self.release_times.note(address, now_unix_secs);
        }
    }

    /// A retained record leaving: its address was let go when its pod was
    /// deleted (`since`), not now.
    pub(super) fn note_retained_release(&mut self, state: &RecordState, address: IpAddr) {
        if let RecordState::Retained {
            since_unix_secs, ..
        } = state
        {
            self.release_times.note(address, *since_unix_secs);
        }
    }

    /// When a pod last let go of `address`: a retained record's DEL, else
    /// the remembered time of a freed address. An attached address is in
    /// use: `None`.
    pub(super) fn released_at(&self, address: IpAddr) -> Option<u64> {
        match self.records.get(&address).map(|r| r.state) {
            Some(RecordState::Retained {
                since_unix_secs, ..
            }) => Some(since_unix_secs),
            Some(RecordState::Attached) => None,
            None => self.release_times.get(address),
        }
    }
}
