//! Sets of `u128` offsets kept as sorted, disjoint, non-adjacent inclusive
//! intervals. Pools describe their assignable addresses this way so that a
//! /8 or a /64 is a handful of numbers, never an enumeration.

/// Sorted, merged inclusive intervals `(start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RangeSet {
    ranges: Vec<(u128, u128)>,
}

impl RangeSet {
    /// Normalises arbitrary intervals (overlapping, adjacent, unsorted).
    pub fn from_ranges(mut ranges: Vec<(u128, u128)>) -> Self {
        assert!(
            ranges.iter().all(|(s, e)| s <= e),
            "interval start after its end"
        );
        ranges.sort_unstable();
        let mut merged: Vec<(u128, u128)> = Vec::with_capacity(ranges.len());
        for (start, end) in ranges {
            match merged.last_mut() {
                // Adjacent intervals merge too: `prev_end + 1 >= start`.
                Some(last) if last.1 == u128::MAX || last.1 + 1 >= start => {
                    last.1 = last.1.max(end);
                }
                _ => merged.push((start, end)),
            }
        }
        Self { ranges: merged }
    }

    pub fn ranges(&self) -> &[(u128, u128)] {
        &self.ranges
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn contains(&self, x: u128) -> bool {
        let i = self.ranges.partition_point(|r| r.1 < x);
        self.ranges.get(i).is_some_and(|r| r.0 <= x)
    }

    /// Number of offsets in the set, saturating at `u64::MAX`.
    pub fn count_saturating(&self) -> u64 {
        let total = self.ranges.iter().fold(0u128, |acc, (s, e)| {
            acc.saturating_add((e - s).saturating_add(1))
        });
        u64::try_from(total).unwrap_or(u64::MAX)
    }

    /// The `n`-th offset of the set (0-based, in order), or `None` past the
    /// end. Walks the intervals, never the offsets.
    pub fn nth(&self, mut n: u128) -> Option<u128> {
        for &(start, end) in &self.ranges {
            let last = end - start;
            if n <= last {
                return Some(start + n);
            }
            // n > last, so this cannot underflow, even for a full range.
            n -= last + 1;
        }
        None
    }

    /// `self` minus `other`.
    pub fn subtract(&self, other: &RangeSet) -> RangeSet {
        let mut out = Vec::with_capacity(self.ranges.len());
        let mut j = 0;
        for &(start, end) in &self.ranges {
            let mut cur = Some(start);
            // Skip holes entirely before this interval.
            while j < other.ranges.len() && other.ranges[j].1 < start {
                j += 1;
            }
            let mut k = j;
            while let (Some(s), Some(&(hs, he))) = (cur, other.ranges.get(k)) {
                if hs > end {
                    break;
                }
                if hs > s {
                    out.push((s, hs - 1));
                }
                cur = he.checked_add(1).filter(|next| *next <= end);
                k += 1;
            }
            if let Some(s) = cur {
                if s <= end {
                    out.push((s, end));
                }
            }
        }
        RangeSet { ranges: out }
    }

    /// The offsets in `0..=max` that are not in the set.
    pub fn complement_within(&self, max: u128) -> RangeSet {
        RangeSet::from_ranges(vec![(0, max)]).subtract(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nth_walks_intervals_in_order() {
        let set = RangeSet::from_ranges(vec![(10, 12), (20, 20), (30, 31)]);
        let all: Vec<_> = (0..7).map(|n| set.nth(n)).collect();
        assert_eq!(
            all,
            vec![
                Some(10),
                Some(11),
                Some(12),
                Some(20),
                Some(30),
                Some(31),
                None
            ]
        );
        let huge = RangeSet::from_ranges(vec![(0, u128::MAX)]);
        assert_eq!(huge.nth(u128::MAX), Some(u128::MAX));
    }

    #[test]
    fn merges_overlapping_and_adjacent() {
        let set = RangeSet::from_ranges(vec![(5, 9), (1, 2), (3, 3), (8, 12), (20, 20)]);
        assert_eq!(set.ranges(), &[(1, 3), (5, 12), (20, 20)]);
        assert_eq!(set.count_saturating(), 3 + 8 + 1);
        assert!(set.contains(12) && !set.contains(4) && !set.contains(21));
    }

    #[test]
    fn subtracts_holes() {
        let set = RangeSet::from_ranges(vec![(0, 10), (20, 30)]);
        let holes = RangeSet::from_ranges(vec![(0, 0), (5, 6), (10, 22), (30, 40)]);
        assert_eq!(set.subtract(&holes).ranges(), &[(1, 4), (7, 9), (23, 29)]);
    }

    #[test]
    fn full_u128_space_saturates() {
        let set = RangeSet::from_ranges(vec![(0, u128::MAX), (7, 9)]);
        assert_eq!(set.ranges(), &[(0, u128::MAX)]);
        assert_eq!(set.count_saturating(), u64::MAX);
        let holes = RangeSet::from_ranges(vec![(u128::MAX, u128::MAX)]);
        assert_eq!(set.subtract(&holes).ranges(), &[(0, u128::MAX - 1)]);
        assert_eq!(
            holes.complement_within(u128::MAX).ranges(),
            &[(0, u128::MAX - 1)]
        );
    }
}
