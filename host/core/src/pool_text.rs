//! How a pool's fields are written: parsing names, addresses, ranges and
//! routes, and the shape rules every pool must satisfy before its ranges
//! mean anything. The BerthPool CRD states the same rules in CEL
//! (`berth-kube`'s `pool_rules.rs`), so `kubectl apply` refuses what
//! `Pool::from_spec` would; `tests/cluster/tests/pool_validation.rs`
//! runs one table of broken pools through both.

use crate::limits::{
    ADDRESS_TEXT_BYTES_MAX, CIDR_TEXT_BYTES_MAX, POOL_ENTRY_BYTES_MAX, POOL_NAME_BYTES_MAX,
};
use crate::offsets::offset_in;
use crate::ranges::RangeSet;
use crate::route::{Route, RouteSpec};
use ipnet::IpNet;
use std::net::IpAddr;

pub(crate) fn check_name(name: &str) -> Result<(), String> {
    // The store keys records by "pool/address" and Kubernetes names pools:
    // a DNS-1123 subdomain satisfies both.
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let ok_ends = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if name.is_empty() || name.len() > POOL_NAME_BYTES_MAX || !ok_chars || !ok_ends {
        return Err(format!(
            "{name:?} must be 1..={POOL_NAME_BYTES_MAX} lowercase letters, digits, '-' or '.', \
             starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

/// The subnet: a CIDR in canonical form (no host bits, RFC 5952 for IPv6),
/// since it names the pool's network everywhere and never changes.
pub(crate) fn parse_subnet(text: &str) -> Result<IpNet, String> {
    if text.len() > CIDR_TEXT_BYTES_MAX {
        return Err(format!("longer than {CIDR_TEXT_BYTES_MAX} bytes"));
    }
    let subnet: IpNet = text
        .parse()
        .map_err(|_| format!("{text:?} is not a CIDR"))?;
    if subnet.network() != subnet.addr() {
        return Err(format!(
            "{subnet} has host bits set; did you mean {}?",
            subnet.trunc()
        ));
    }
    if subnet.to_string() != text {
        return Err(format!("{text:?} is not in canonical form; write {subnet}"));
    }
    Ok(subnet)
}

pub(crate) fn parse_in_subnet(subnet: &IpNet, text: &str) -> Result<IpAddr, String> {
    if text.len() > ADDRESS_TEXT_BYTES_MAX {
        return Err(format!(
            "{text:?} is longer than {ADDRESS_TEXT_BYTES_MAX} bytes"
        ));
    }
    let addr: IpAddr = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not an IP address"))?;
    if !subnet.contains(&addr) {
        return Err(format!("{addr} is outside the subnet {subnet}"));
    }
    Ok(addr)
}

/// Parses "a-b", "a" or "a/n" entries into offsets of `subnet`, each
/// entry with its own interval (in entry order) and all of them merged.
pub(crate) fn parse_entries(
    subnet: &IpNet,
    entries: &[String],
) -> Result<(RangeSet, Vec<(u128, u128)>), String> {
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        if entry.len() > POOL_ENTRY_BYTES_MAX {
            return Err(format!(
                "{entry:?} is longer than {POOL_ENTRY_BYTES_MAX} bytes"
            ));
        }
        let (start, end) = if let Some((a, b)) = entry.split_once('-') {
            (parse_in_subnet(subnet, a)?, parse_in_subnet(subnet, b)?)
        } else if entry.contains('/') {
            let net: IpNet = entry
                .trim()
                .parse()
                .map_err(|_| format!("{entry:?} is not a CIDR"))?;
            if !subnet.contains(&net) {
                return Err(format!("{net} is outside the subnet {subnet}"));
            }
            (net.network(), net.broadcast())
        } else {
            let addr = parse_in_subnet(subnet, entry)?;
            (addr, addr)
        };
        let (s, e) = (offset_in(subnet, start), offset_in(subnet, end));
        match (s, e) {
            (Some(s), Some(e)) if s <= e => out.push((s, e)),
            _ => return Err(format!("{entry:?}: the range ends before it starts")),
        }
    }
    Ok((RangeSet::from_ranges(out.clone()), out))
}

/// The gateway, inside the subnet and outside every entry of `ips`: it is
/// never handed out, so listing it there is a mistake (Spiderpool refuses
/// it too). `entries` are the parsed `ips`, in order.
pub(crate) fn parse_gateway(
    subnet: &IpNet,
    text: &str,
    ips: &[String],
    entries: &[(u128, u128)],
) -> Result<IpAddr, String> {
    let gateway = parse_in_subnet(subnet, text)?;
    let offset = offset_in(subnet, gateway).unwrap_or_default();
    match ips
        .iter()
        .zip(entries)
        .find(|(_, (s, e))| (*s..=*e).contains(&offset))
    {
        Some((entry, _)) => Err(format!(
            "{gateway} is inside the ips entry {entry:?}; a gateway is never handed out"
        )),
        None => Ok(gateway),
    }
}

/// A route whose destination and next hop are of the pool's family.
pub(crate) fn parse_route(subnet: &IpNet, spec: &RouteSpec) -> Result<Route, String> {
    if spec.dst.len() > CIDR_TEXT_BYTES_MAX {
        return Err(format!("dst is longer than {CIDR_TEXT_BYTES_MAX} bytes"));
    }
    let dst: IpNet = spec
        .dst
        .trim()
        .parse()
        .map_err(|_| format!("dst {:?} is not a CIDR", spec.dst))?;
    if dst.addr().is_ipv4() != subnet.addr().is_ipv4() {
        return Err(format!(
            "dst {dst} is not of the family of the subnet {subnet}"
        ));
    }
    let gw = match &spec.gw {
        None => None,
        Some(text) => {
            if text.len() > ADDRESS_TEXT_BYTES_MAX {
                return Err(format!("gw is longer than {ADDRESS_TEXT_BYTES_MAX} bytes"));
            }
            let gw: IpAddr = text
                .trim()
                .parse()
                .map_err(|_| format!("gw {text:?} is not an IP address"))?;
            if gw.is_ipv4() != dst.addr().is_ipv4() {
                return Err(format!("gw {gw} is not of the family of dst {dst}"));
            }
            Some(gw)
        }
    };
    Ok(Route { dst, gw })
}
