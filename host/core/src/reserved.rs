//! Addresses no pool hands out, whatever pool covers them: the cluster's
//! `BerthReservedIP` objects, or `reserved` in a single-host config. Kept
//! as absolute intervals per family, so a reserved /64 is two numbers.
//!
//! A reservation never takes an address from its holder: an address
//! reserved while held stays held (and with a sticky identity) until it is
//! released, and is then not handed out again while reserved
//! (`Allocator::can_take`).

use crate::limits::{POOL_ENTRY_BYTES_MAX, RESERVED_ENTRIES_MAX};
use crate::pool::Pool;
use crate::ranges::RangeSet;
use berth_policy_sdk::addr::to_u128;
use ipnet::IpNet;
use std::net::IpAddr;

/// A malformed reservation entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("reserved entry {entry:?}: {problem}")]
pub struct ReservedError {
    pub entry: String,
    pub problem: String,
}

/// The reserved addresses of both families.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reserved {
    v4: RangeSet,
    v6: RangeSet,
    entries: usize,
}

impl Reserved {
    /// Parses entries: an address, a CIDR or a range `start-end` of one
    /// family, either family. All or nothing: one bad entry refuses all.
    pub fn parse(entries: &[String]) -> Result<Reserved, ReservedError> {
        let mut reserved = Reserved::default();
        reserved.add(entries)?;
        Ok(reserved)
    }

    /// Adds `entries` (another object's); on error nothing was added.
    pub fn add(&mut self, entries: &[String]) -> Result<(), ReservedError> {
        let err = |entry: &str, problem: String| ReservedError {
            entry: entry.to_owned(),
            problem,
        };
        if self.entries + entries.len() > RESERVED_ENTRIES_MAX {
            let first = entries.first().map_or("", String::as_str);
            return Err(err(
                first,
                format!("more than {RESERVED_ENTRIES_MAX} reserved entries in all"),
            ));
        }
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for entry in entries {
            let (start, end) = parse_entry(entry).map_err(|p| err(entry, p))?;
            let into = if start.is_ipv4() { &mut v4 } else { &mut v6 };
            into.push((to_u128(start), to_u128(end)));
        }
        v4.extend_from_slice(self.v4.ranges());
        v6.extend_from_slice(self.v6.ranges());
        self.v4 = RangeSet::from_ranges(v4);
        self.v6 = RangeSet::from_ranges(v6);
        self.entries += entries.len();
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// The same addresses reserved, however the entries were written.
    pub fn same_addresses(&self, other: &Reserved) -> bool {
        self.v4 == other.v4 && self.v6 == other.v6
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        self.family(address).contains(to_u128(address))
    }

    /// The reserved addresses of `subnet`, as offsets from its network
    /// address (what pools and free indexes work in).
    pub fn offsets_in(&self, subnet: &IpNet) -> RangeSet {
        let (base, last) = (to_u128(subnet.network()), to_u128(subnet.broadcast()));
        let within = self
            .family(subnet.network())
            .ranges()
            .iter()
            .filter(|(s, e)| *e >= base && *s <= last)
            .map(|(s, e)| ((*s).max(base) - base, (*e).min(last) - base))
            .collect();
        RangeSet::from_ranges(within)
    }

    /// `pool`'s assignable addresses that are not reserved.
    pub fn unreserved_in(&self, pool: &Pool) -> RangeSet {
        pool.ranges().subtract(&self.offsets_in(&pool.subnet))
    }

    /// How many of `pool`'s assignable addresses are reserved.
    pub fn count_in(&self, pool: &Pool) -> u64 {
        let unreserved = self.unreserved_in(pool).count_saturating();
        pool.total().saturating_sub(unreserved)
    }

    fn family(&self, address: IpAddr) -> &RangeSet {
        if address.is_ipv4() {
            &self.v4
        } else {
            &self.v6
        }
    }
}

fn parse_address(text: &str) -> Result<IpAddr, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not an IP address"))
}

/// First and last address of an entry.
fn parse_entry(entry: &str) -> Result<(IpAddr, IpAddr), String> {
    if entry.len() > POOL_ENTRY_BYTES_MAX {
        return Err(format!("longer than {POOL_ENTRY_BYTES_MAX} bytes"));
    }
    if let Some((a, b)) = entry.split_once('-') {
        let (start, end) = (parse_address(a)?, parse_address(b)?);
        if start.is_ipv4() != end.is_ipv4() {
            return Err("the range mixes IPv4 and IPv6".to_owned());
        }
        if to_u128(start) > to_u128(end) {
            return Err("the range starts after its end".to_owned());
        }
        Ok((start, end))
    } else if entry.contains('/') {
        let net: IpNet = entry
            .parse()
            .map_err(|_| format!("{entry:?} is not a CIDR"))?;
        // 10.6.0.5/24 could mean the /24 or a typo'd address: refuse it.
        if net.trunc().to_string() != entry {
            return Err(format!(
                "a CIDR must be in canonical form: no host bits set ({})",
                net.trunc()
            ));
        }
        Ok((net.network(), net.broadcast()))
    } else {
        let address = parse_address(entry)?;
        Ok((address, address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn entries_of_both_families_merge_and_clip_to_a_subnet() {
        let r = Reserved::parse(&entries(&[
            "10.0.0.5",
            "10.0.0.8-10.0.1.2",
            "fd00::/120",
            "10.0.0.6",
        ]))
        .expect("valid");
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert!(r.contains(ip("10.0.0.6")) && r.contains(ip("fd00::ff")));
        assert!(!r.contains(ip("10.0.0.7")) && !r.contains(ip("fd00::100")));
        let subnet: IpNet = "10.0.0.0/24".parse().expect("net");
        assert_eq!(r.offsets_in(&subnet).ranges(), &[(5, 6), (8, 255)]);
        let v6: IpNet = "fd00::/64".parse().expect("net");
        assert_eq!(r.offsets_in(&v6).ranges(), &[(0, 255)]);
        let elsewhere: IpNet = "10.1.0.0/16".parse().expect("net");
        assert!(r.offsets_in(&elsewhere).is_empty());
        // A reserved /8 or /64 is a pair of numbers, never enumerated.
        let huge = Reserved::parse(&entries(&["fd00::/8"])).expect("valid");
        assert_eq!(huge.offsets_in(&v6).ranges(), &[(0, u128::from(u64::MAX))]);
    }

    #[test]
    fn a_bad_entry_is_named_and_adds_nothing() {
        for (bad, words) in [
            ("10.0.0.9-10.0.0.1", "starts after its end"),
            ("10.0.0.1-fd00::1", "mixes"),
            ("10.0.0.0/33", "not a CIDR"),
            (
                "10.0.0.5/24",
                "canonical form: no host bits set (10.0.0.0/24)",
            ),
            ("", "not an IP address"),
            ("nonsense", "not an IP address"),
        ] {
            let mut r = Reserved::parse(&entries(&["10.9.0.1"])).expect("valid");
            let before = r.clone();
            let err = r.add(&entries(&["10.9.0.2", bad])).expect_err(bad);
            assert_eq!(err.entry, bad);
            assert!(err.to_string().contains(words), "{err}");
            assert_eq!(r, before, "{bad} changed the set");
        }
    }
}
