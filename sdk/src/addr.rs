//! Address arithmetic on IPv4 and IPv6 without enumerating anything: both
//! families map onto `u128`, so a range of a /64 costs the same as a /30.

use std::fmt;
use std::net::IpAddr;

/// Parses an address, with an error that quotes the input.
pub fn parse_ip(text: &str) -> Result<IpAddr, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{text:?} is not an IPv4 or IPv6 address"))
}

/// An address as a number (IPv4 in the low 32 bits): the one conversion
/// behind every range, offset and count of addresses, here and in
/// `berth-core` (pools, free indexes, reservations) alike.
#[inline]
pub fn to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// `bits` as an address of `like`'s family; for IPv4, bits past the low 32
/// saturate at 255.255.255.255 (callers keep within the family's range).
#[inline]
pub fn from_u128(bits: u128, like: IpAddr) -> IpAddr {
    match like {
        IpAddr::V4(_) => IpAddr::V4(u32::try_from(bits).unwrap_or(u32::MAX).into()),
        IpAddr::V6(_) => IpAddr::V6(bits.into()),
    }
}

fn same_family(a: IpAddr, b: IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

/// An inclusive range of addresses of one family, `start <= end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrRange {
    start: IpAddr,
    end: IpAddr,
}

impl AddrRange {
    pub fn new(start: IpAddr, end: IpAddr) -> Result<Self, String> {
        if !same_family(start, end) {
            return Err(format!("range {start}-{end} mixes IPv4 and IPv6"));
        }
        if to_u128(start) > to_u128(end) {
            return Err(format!("range {start}-{end} ends before it starts"));
        }
        Ok(Self { start, end })
    }

    /// Parses `a-b` (inclusive) or a single address `a`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.split_once('-') {
            Some((a, b)) => Self::new(parse_ip(a)?, parse_ip(b)?),
            None => {
                let ip = parse_ip(text)?;
                Self::new(ip, ip)
            }
        }
    }

    pub fn start(&self) -> IpAddr {
        self.start
    }

    pub fn end(&self) -> IpAddr {
        self.end
    }

    /// Number of addresses, saturating at `u128::MAX` for the one range
    /// (all of IPv6) whose size does not fit.
    pub fn len(&self) -> u128 {
        (to_u128(self.end) - to_u128(self.start)).saturating_add(1)
    }

    /// Never true: a range holds at least its start.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The `n`-th address (0-based), or `None` past the end.
    pub fn nth(&self, n: u128) -> Option<IpAddr> {
        let at = to_u128(self.start).checked_add(n)?;
        if at > to_u128(self.end) {
            return None;
        }
        Some(match self.start {
            IpAddr::V4(_) => IpAddr::V4(u32::try_from(at).ok()?.into()),
            IpAddr::V6(_) => IpAddr::V6(at.into()),
        })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        same_family(ip, self.start)
            && (to_u128(self.start)..=to_u128(self.end)).contains(&to_u128(ip))
    }
}

impl fmt::Display for AddrRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// A CIDR block; host bits in the written address are ignored, like the
/// kernel does (`10.6.1.7/16` is `10.6.0.0/16`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (addr, prefix) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?} is not a CIDR (expected address/prefix)"))?;
        let network = parse_ip(addr)?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix: u8 = prefix
            .trim()
            .parse()
            .ok()
            .filter(|p| *p <= max)
            .ok_or_else(|| format!("{text:?} has an invalid prefix length (0..={max})"))?;
        Ok(Self { network, prefix })
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// The first address of the block (host bits cleared).
    pub fn network(&self) -> IpAddr {
        from_u128(to_u128(self.network) & !self.host_mask(), self.network)
    }

    /// The last address of the block (host bits set).
    pub fn last(&self) -> IpAddr {
        from_u128(to_u128(self.network) | self.host_mask(), self.network)
    }

    fn host_mask(&self) -> u128 {
        let bits: u32 = if self.network.is_ipv4() { 32 } else { 128 };
        let host_bits = bits - u32::from(self.prefix);
        if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        if !same_family(ip, self.network) {
            return false;
        }
        let bits: u32 = if ip.is_ipv4() { 32 } else { 128 };
        let host_bits = bits - u32::from(self.prefix);
        // Comparing the addresses shifted past the host bits needs no mask;
        // a shift by 128 would overflow, and a /0 contains everything.
        host_bits >= 128 || (to_u128(ip) >> host_bits) == (to_u128(self.network) >> host_bits)
    }
}

/// Whether `addr` lies in `cidr`; both are parsed, errors quote them.
pub fn in_cidr(addr: &str, cidr: &str) -> Result<bool, String> {
    Ok(Cidr::parse(cidr)?.contains(parse_ip(addr)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_parse_and_measure() {
        let r = AddrRange::parse("10.6.168.101-10.6.168.110").unwrap();
        assert_eq!(r.len(), 10);
        assert_eq!(r.nth(0), Some(ip("10.6.168.101")));
        assert_eq!(r.nth(9), Some(ip("10.6.168.110")));
        assert_eq!(r.nth(10), None);
        assert_eq!(r.nth(u128::MAX), None);
        assert_eq!(r.to_string(), "10.6.168.101-10.6.168.110");
        assert!(r.contains(ip("10.6.168.105")));
        assert!(!r.contains(ip("10.6.168.111")));
        assert!(!r.contains(ip("::a06:a865")));

        let single = AddrRange::parse("10.0.0.1").unwrap();
        assert_eq!(single.len(), 1);

        let v4_all = AddrRange::parse("0.0.0.0-255.255.255.255").unwrap();
        assert_eq!(v4_all.len(), 1 << 32);
        assert_eq!(v4_all.nth((1 << 32) - 1), Some(ip("255.255.255.255")));

        let v6 = AddrRange::parse("fd00::1 - fd00::ffff:ffff:ffff:ffff").unwrap();
        assert_eq!(v6.nth(0x1_0000_0000), Some(ip("fd00::1:0:1")));
        let v6_all = AddrRange::parse("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").unwrap();
        assert_eq!(v6_all.len(), u128::MAX);
        assert_eq!(
            v6_all.nth(u128::MAX),
            Some(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))
        );
    }

    #[test]
    fn bad_ranges_are_refused() {
        for (text, want) in [
            ("10.0.0.9-10.0.0.1", "ends before it starts"),
            ("10.0.0.1-fd00::1", "mixes IPv4 and IPv6"),
            ("10.0.0.1-", "not an IPv4 or IPv6 address"),
            ("10.0.0.256", "not an IPv4 or IPv6 address"),
            ("", "not an IPv4 or IPv6 address"),
        ] {
            let err = AddrRange::parse(text).unwrap_err();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn cidr_membership() {
        let cases = [
            ("10.6.168.101", "10.6.0.0/16", true),
            ("10.7.0.0", "10.6.0.0/16", false),
            ("10.6.255.255", "10.6.1.7/16", true),
            ("1.2.3.4", "0.0.0.0/0", true),
            ("10.0.0.1", "10.0.0.1/32", true),
            ("10.0.0.2", "10.0.0.1/32", false),
            ("fd00::1:2", "fd00::/64", true),
            ("fd00:0:0:1::", "fd00::/64", false),
            ("::1", "::/0", true),
            ("::1", "::1/128", true),
            ("10.0.0.1", "::/0", false),
        ];
        for (addr, cidr, want) in cases {
            assert_eq!(in_cidr(addr, cidr), Ok(want), "{addr} in {cidr}");
        }
        assert!(in_cidr("10.0.0.1", "10.0.0.0/33").is_err());
        assert!(in_cidr("10.0.0.1", "10.0.0.0").is_err());
        assert!(in_cidr("nope", "10.0.0.0/8").is_err());
    }

    #[test]
    fn cidr_bounds() {
        let c = Cidr::parse("10.6.1.7/16").unwrap();
        assert_eq!(
            (c.network(), c.last()),
            (ip("10.6.0.0"), ip("10.6.255.255"))
        );
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert_eq!(all.last(), ip("255.255.255.255"));
        let v6 = Cidr::parse("fd00::5/120").unwrap();
        assert_eq!((v6.network(), v6.last()), (ip("fd00::"), ip("fd00::ff")));
        assert_eq!(
            Cidr::parse("::/0").unwrap().last(),
            ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
        );
    }
}
