//! The held addresses of one pool, answering "is X free" and "the first k
//! free addresses from a cursor" in O(log n + k) whatever the pool's size
//! and fill.
//!
//! The index keeps one ordered map of *blocked* offsets as merged
//! intervals: the offsets that are not assignable (gaps between ranges,
//! exclusions, gateway) and the held ones. Because blocked intervals are
//! always merged, the offset right after an interval is free (or past the
//! end), so every lookup step yields free addresses; a 99 % full /16 is as
//! quick as an empty /24.

use crate::ranges::RangeSet;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct FreeIndex {
    /// Last offset of the subnet.
    max: u128,
    assignable: RangeSet,
    /// start -> end (inclusive), disjoint and non-adjacent.
    blocked: BTreeMap<u128, u128>,
    held: u64,
}

impl FreeIndex {
    pub fn new(assignable: &RangeSet, max: u128) -> Self {
        assert!(
            assignable.ranges().last().is_none_or(|r| r.1 <= max),
            "assignable range beyond the subnet"
        );
        let blocked = assignable
            .complement_within(max)
            .ranges()
            .iter()
            .copied()
            .collect();
        Self {
            max,
            assignable: assignable.clone(),
            blocked,
            held: 0,
        }
    }

    /// Whether `offset` may be handed out at all (held or not).
    pub fn is_assignable(&self, offset: u128) -> bool {
        self.assignable.contains(offset)
    }

    /// Held addresses.
    pub fn held(&self) -> u64 {
        self.held
    }

    pub fn is_free(&self, offset: u128) -> bool {
        offset <= self.max && self.containing(offset).is_none()
    }

    /// Marks an assignable, free offset as held.
    pub fn hold(&mut self, offset: u128) {
        assert!(
            self.assignable.contains(offset),
            "holding a non-assignable offset"
        );
        assert!(self.is_free(offset), "holding an offset twice");
        let mut start = offset;
        let mut end = offset;
        if let Some(prev) = offset.checked_sub(1).and_then(|p| self.containing(p)) {
            start = prev;
            end = self.blocked.remove(&prev).unwrap_or(offset);
            end = end.max(offset);
        }
        if let Some(next) = offset.checked_add(1) {
            if let Some(next_end) = self.blocked.remove(&next) {
                end = next_end;
            }
        }
        self.blocked.insert(start, end);
        self.held += 1;
    }

    /// Frees a held offset.
    pub fn release(&mut self, offset: u128) {
        assert!(
            self.assignable.contains(offset),
            "releasing a non-assignable offset"
        );
        let start = self
            .containing(offset)
            .unwrap_or_else(|| panic!("releasing free offset {offset}"));
        let end = self.blocked.remove(&start).unwrap_or(offset);
        if start < offset {
            self.blocked.insert(start, offset - 1);
        }
        if end > offset {
            self.blocked.insert(offset + 1, end);
        }
        self.held -= 1;
    }

    /// Up to `k` free offsets, in order from `cursor` to the end of the
    /// subnet, then wrapping around from 0.
    pub fn first_free(&self, cursor: u128, k: usize) -> Vec<u128> {
        let cursor = cursor.min(self.max);
        let mut out = Vec::with_capacity(k.min(64));
        self.collect_free(cursor, self.max, k, &mut out);
        if cursor > 0 {
            self.collect_free(0, cursor - 1, k, &mut out);
        }
        out
    }

    /// Up to `k` free offsets in `from..=to`, ascending (no wrap).
    pub fn free_between(&self, from: u128, to: u128, k: usize) -> Vec<u128> {
        let mut out = Vec::new();
        if from <= to && from <= self.max {
            self.collect_free(from, to.min(self.max), k, &mut out);
        }
        out
    }

    /// Free offsets in `from..=limit`: one tree lookup, then a walk over
    /// the following blocked intervals (each gap between two is a free
    /// run), so the cost is O(log n + k) even when every free address is
    /// an isolated hole.
    fn collect_free(&self, from: u128, limit: u128, k: usize, out: &mut Vec<u128>) {
        let mut p = from;
        if let Some(start) = self.containing(p) {
            match self.blocked.get(&start).and_then(|e| e.checked_add(1)) {
                Some(next) => p = next,
                None => return,
            }
        }
        // `p` is free here: blocked intervals are merged, so the offset
        // after one is never blocked.
        for (&start, &end) in self.blocked.range(p..) {
            if p > limit || out.len() >= k {
                return;
            }
            push_run(p, (start - 1).min(limit), k, out);
            match end.checked_add(1) {
                Some(next) => p = next,
                None => return,
            }
        }
        if p <= limit {
            push_run(p, limit, k, out);
        }
    }

    /// Start of the blocked interval containing `offset`, if any.
    fn containing(&self, offset: u128) -> Option<u128> {
        self.blocked
            .range(..=offset)
            .next_back()
            .filter(|(_, &end)| end >= offset)
            .map(|(&start, _)| start)
    }
}

/// Pushes `from..=to` onto `out` until it holds `k`.
fn push_run(from: u128, to: u128, k: usize, out: &mut Vec<u128>) {
    let mut p = from;
    while out.len() < k && p <= to {
        out.push(p);
        if p == to {
            break;
        }
        p += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> FreeIndex {
        // Subnet of 16 offsets, assignable 1..=6 and 9..=14.
        FreeIndex::new(&RangeSet::from_ranges(vec![(1, 6), (9, 14)]), 15)
    }

    #[test]
    fn lists_free_from_cursor_with_wraparound() {
        let mut idx = index();
        assert_eq!(idx.first_free(0, 4), vec![1, 2, 3, 4]);
        idx.hold(5);
        idx.hold(6);
        idx.hold(9);
        assert_eq!(idx.first_free(4, 3), vec![4, 10, 11]);
        assert_eq!(idx.first_free(13, 4), vec![13, 14, 1, 2]);
        assert!(!idx.is_free(0) && !idx.is_free(7) && !idx.is_free(6) && idx.is_free(10));
        assert_eq!(idx.held(), 3);
    }

    #[test]
    fn hold_and_release_restore_the_same_shape() {
        let mut idx = index();
        let before = idx.blocked.clone();
        for o in [3, 1, 2, 6, 4, 5, 9] {
            idx.hold(o);
        }
        assert_eq!(idx.first_free(0, 10), vec![10, 11, 12, 13, 14]);
        for o in [2, 9, 5, 1, 6, 3, 4] {
            idx.release(o);
        }
        assert_eq!(idx.blocked, before);
        assert_eq!(idx.held(), 0);
    }

    #[test]
    fn isolated_holes_are_walked_in_order() {
        let mut idx = FreeIndex::new(&RangeSet::from_ranges(vec![(0, 99)]), 99);
        for o in (0..100).step_by(2) {
            idx.hold(o);
        }
        assert_eq!(idx.first_free(10, 5), vec![11, 13, 15, 17, 19]);
        assert_eq!(idx.first_free(96, 4), vec![97, 99, 1, 3]);
        assert_eq!(idx.first_free(0, 100).len(), 50);
    }

    #[test]
    fn full_index_has_nothing_free() {
        let mut idx = index();
        for o in (1..=6).chain(9..=14) {
            idx.hold(o);
        }
        assert!(idx.first_free(7, 5).is_empty());
        assert_eq!(idx.blocked.len(), 1);
    }

    #[test]
    #[should_panic(expected = "twice")]
    fn holding_twice_is_a_bug() {
        let mut idx = index();
        idx.hold(3);
        idx.hold(3);
    }

    #[test]
    fn huge_v6_space_is_not_enumerated() {
        let mut idx = FreeIndex::new(&RangeSet::from_ranges(vec![(1, u128::MAX)]), u128::MAX);
        idx.hold(u128::MAX);
        assert_eq!(idx.first_free(u128::MAX, 2), vec![1, 2]);
        assert_eq!(
            idx.first_free(u128::MAX - 2, 3),
            vec![u128::MAX - 2, u128::MAX - 1, 1]
        );
    }
}
