//! The reserved ranges and the segments of a pool's subnet around them.

use berth_policy_sdk::addr::{from_u128, parse_ip, to_u128, AddrRange, Cidr};
use serde::Deserialize;
use std::net::IpAddr;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reserve {
    pub pool: String,
    /// `first-last` (inclusive) or one address.
    pub range: String,
}

impl Reserve {
    pub fn validate(&self) -> Result<(), String> {
        if self.pool.trim().is_empty() {
            return Err("pool: must not be empty".into());
        }
        AddrRange::parse(&self.range).map(|_| ())
    }

    fn parsed(&self) -> Option<AddrRange> {
        AddrRange::parse(&self.range).ok()
    }

    pub fn contains(&self, address: &str) -> bool {
        match (self.parsed(), parse_ip(address)) {
            (Some(r), Ok(a)) => r.contains(a),
            _ => false,
        }
    }

    /// First and last address, as the query takes them.
    pub fn bounds(&self) -> (String, String) {
        match self.parsed() {
            Some(r) => (r.start().to_string(), r.end().to_string()),
            // validate() refused it at load; a query on "" finds nothing.
            None => (String::new(), String::new()),
        }
    }
}

/// A part of a subnet outside every reserved range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    first: u128,
    last: u128,
    /// An address of the subnet: the family `first` and `last` are of.
    family: IpAddr,
}

impl Segment {
    /// The parts of `subnet` no range of `reserve` covers, ascending.
    pub fn outside(subnet: &str, reserve: &[&Reserve]) -> Vec<Segment> {
        let Ok(cidr) = Cidr::parse(subnet) else {
            return Vec::new();
        };
        let family = cidr.network();
        let v4 = family.is_ipv4();
        let (lo, hi) = (to_u128(cidr.network()), to_u128(cidr.last()));
        let mut taken: Vec<(u128, u128)> = reserve
            .iter()
            .filter_map(|r| r.parsed())
            .filter(|r| r.start().is_ipv4() == v4)
            .map(|r| (to_u128(r.start()), to_u128(r.end())))
            .collect();
        taken.sort_unstable();
        let mut out = Vec::new();
        let mut next = lo;
        for (start, end) in taken {
            if start > next && next <= hi {
                out.push(Segment {
                    first: next,
                    last: (start - 1).min(hi),
                    family,
                });
            }
            next = next.max(end.saturating_add(1));
        }
        if next <= hi {
            out.push(Segment {
                first: next,
                last: hi,
                family,
            });
        }
        out
    }

    pub fn bounds(&self) -> (String, String) {
        (
            from_u128(self.first, self.family).to_string(),
            from_u128(self.last, self.family).to_string(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_skip_the_reserve() {
        let r = Reserve {
            pool: "p".into(),
            range: "10.70.0.1-10.70.0.9".into(),
        };
        let segments = Segment::outside("10.70.0.0/24", &[&r]);
        let bounds: Vec<_> = segments.iter().map(Segment::bounds).collect();
        assert_eq!(
            bounds,
            [
                ("10.70.0.0".to_owned(), "10.70.0.0".to_owned()),
                ("10.70.0.10".to_owned(), "10.70.0.255".to_owned())
            ]
        );
        let all = Reserve {
            pool: "p".into(),
            range: "10.0.0.0-10.255.255.255".into(),
        };
        assert!(Segment::outside("10.70.0.0/24", &[&all]).is_empty());
        assert_eq!(Segment::outside("fd00::/120", &[&r]).len(), 1);
    }
}
