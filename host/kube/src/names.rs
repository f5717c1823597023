//! Object names and label values derived from records.
//!
//! A BerthAddress is named `<pool>.<address>` with the address spelled
//! with '-' for ':' and '.', so the API server's name uniqueness gives an
//! address one owner (KEP-1880 style): two nodes creating the same address
//! race on one name and exactly one create succeeds.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv6Addr};

pub use crate::limits::{LABEL_VALUE_BYTES_MAX, NAME_BYTES_MAX};

/// Label keys carried by every BerthAddress, for selection.
pub const LABEL_POOL: &str = "berth.io/pool";
pub const LABEL_NODE: &str = "berth.io/node";
pub const LABEL_IDENTITY_HASH: &str = "berth.io/identity-hash";
pub const LABEL_POD_UID: &str = "berth.io/pod-uid";

/// The BerthAddress name of `address` in `pool`.
///
/// Deterministic and injective per pool: the address part decodes back to
/// the address (see [`address_from_label`]). Pool names are DNS-1123
/// subdomains already; a pool name too long to leave room for the address
/// is shortened to a prefix plus a hash of the whole name.
pub fn address_object_name(pool: &str, address: IpAddr) -> String {
    let addr = address_label(address);
    let room = NAME_BYTES_MAX - 1 - addr.len();
    format!("{}.{addr}", shorten(pool, room))
}

/// The address spelled as one DNS label: "10-6-168-101", "fd00--1".
///
/// IPv6 is written here in RFC 5952 compressed form from its segments
/// (not through `Display`, which prints `::ffff:1.2.3.4` for mapped
/// addresses and would then collide with `::ffff:1:2:3:4`). A label must
/// start and end with a letter or digit, so a leading or trailing "::"
/// gets an explicit zero group: "::1" → "0--1", "fe80::" → "fe80--0".
pub fn address_label(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => v4.to_string().replace('.', "-"),
        IpAddr::V6(v6) => {
            let mut text = compressed_v6(v6);
            if text.starts_with("::") {
                text.insert(0, '0');
            }
            if text.ends_with("::") {
                text.push('0');
            }
            text.replace(':', "-")
        }
    }
}

/// The address an [`address_label`] spells, if it spells one.
pub fn address_from_label(label: &str) -> Option<IpAddr> {
    let dots = label.replace('-', ".");
    if let Ok(v4) = dots.parse::<std::net::Ipv4Addr>() {
        return Some(IpAddr::V4(v4));
    }
    label
        .replace('-', ":")
        .parse::<Ipv6Addr>()
        .ok()
        .map(IpAddr::V6)
}

fn compressed_v6(addr: Ipv6Addr) -> String {
    let seg = addr.segments();
    // Longest run of zero groups, at least two long, first one on ties.
    let (mut best, mut run) = ((0usize, 0usize), (0usize, 0usize));
    for (i, s) in seg.iter().enumerate() {
        if *s == 0 {
            if run.1 == 0 {
                run.0 = i;
            }
            run.1 += 1;
            if run.1 > best.1 {
                best = run;
            }
        } else {
            run.1 = 0;
        }
    }
    let hex = |range: &[u16]| {
        range
            .iter()
            .map(|s| format!("{s:x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    if best.1 < 2 {
        return hex(&seg);
    }
    let (start, end) = (best.0, best.0 + best.1);
    format!("{}::{}", hex(&seg[..start]), hex(&seg[end..]))
}

/// A label value for a name (pool, node): the name itself when it fits,
/// else a prefix and a hash, so selection by label stays exact.
pub fn label_value(name: &str) -> String {
    shorten(name, LABEL_VALUE_BYTES_MAX)
}

/// The `berth.io/identity-hash` value: identity keys contain '/' and may
/// be 253 bytes, so the label carries 128 bits of their SHA-256.
pub fn identity_hash(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    hex::encode(&digest[..16])
}

/// `name` when it is at most `max` bytes, else its first bytes, '-', and
/// 16 hex digits of its SHA-256 (ending in a digit or letter, as names
/// and label values must).
fn shorten(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let digest = hex::encode(&Sha256::digest(name.as_bytes())[..8]);
    let keep = max.saturating_sub(digest.len() + 1);
    // Names here are ASCII (DNS-1123); `get` guards anything else.
    let mut out = name.get(..keep).unwrap_or_default().to_owned();
    // The hash joins the last label of the prefix, which must stay a
    // valid DNS label (≤ 63 bytes), and a prefix ending in '.' or '-'
    // would put two separators in a row.
    let last_label_max = 63 - (digest.len() + 1);
    while out.ends_with(['.', '-'])
        || out
            .rsplit('.')
            .next()
            .is_some_and(|l| l.len() > last_label_max)
    {
        out.pop();
    }
    let _ = write!(out, "-{digest}");
    out
}

/// Whether `name` is a DNS-1123 subdomain (what object names must be).
pub fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= NAME_BYTES_MAX
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn name(pool: &str, addr: &str) -> String {
        address_object_name(pool, addr.parse().unwrap())
    }

    #[test]
    fn v4_and_v6_names_are_valid_and_decode() {
        for (addr, label) in [
            ("10.6.168.101", "10-6-168-101"),
            ("fd00::1", "fd00--1"),
            ("::1", "0--1"),
            ("::", "0--0"),
            ("fe80::", "fe80--0"),
            ("2001:db8:0:1:1:1:1:1", "2001-db8-0-1-1-1-1-1"),
            ("::ffff:1.2.3.4", "0--ffff-102-304"),
            ("::ffff:1:2:3:4", "0--ffff-1-2-3-4"),
        ] {
            let ip: IpAddr = addr.parse().unwrap();
            assert_eq!(address_label(ip), label, "{addr}");
            assert_eq!(address_from_label(label), Some(ip), "{addr}");
            let n = name("test-ippool", addr);
            assert!(is_dns_subdomain(&n), "{n}");
        }
    }

    #[test]
    fn long_pool_names_are_shortened_deterministically() {
        // A valid pool name of 251 bytes: four 62-byte labels.
        let pool = vec!["p".repeat(62); 4].join(".");
        let n = name(&pool, "fd00:1:2:3:4:5:6:7");
        assert!(is_dns_subdomain(&n) && n.len() <= NAME_BYTES_MAX, "{n}");
        assert_eq!(n, name(&pool, "fd00:1:2:3:4:5:6:7"));
        let other = format!("{}q", &pool[..250]);
        assert_ne!(n, name(&other, "fd00:1:2:3:4:5:6:7"));
        assert!(is_dns_subdomain(&name(&pool, "10.0.0.1")));
        let label = label_value(&pool);
        assert!(label.len() <= LABEL_VALUE_BYTES_MAX);
        assert_eq!(label_value("short"), "short");
    }

    #[test]
    fn identity_hash_is_a_label_value() {
        let h = identity_hash("default/test-sts/0");
        assert_eq!(h.len(), 32);
        assert!(h.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
