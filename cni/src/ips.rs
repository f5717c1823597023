//! Address parsing shared by requested IPs, prevResult and daemon results.
//! std's `IpAddr` is enough: the plugin only needs to validate, strip a
//! prefix and tell the family, so no CIDR crate is pulled into the binary.

use std::net::IpAddr;

/// Parses `addr/prefix`, checking the prefix fits the family.
pub fn parse_cidr(text: &str) -> Result<(IpAddr, u8), String> {
    let (addr, prefix) = text
        .split_once('/')
        .ok_or_else(|| "has no prefix length (expected address/prefix)".to_string())?;
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| format!("{addr:?} is not an IP address"))?;
    let prefix = parse_prefix(addr, prefix)?;
    Ok((addr, prefix))
}

/// Parses an address that may carry a prefix length (`10.1.2.3` or
/// `10.1.2.3/24`, the forms `args.cni.ips` and `runtimeConfig.ips` use) and
/// returns the bare address: the pool, not the caller, decides the prefix.
pub fn parse_requested(text: &str) -> Result<IpAddr, String> {
    match text.split_once('/') {
        Some(_) => parse_cidr(text).map(|(addr, _)| addr),
        None => text
            .parse()
            .map_err(|_| "is not an IP address (expected 10.1.2.3 or 10.1.2.3/24)".to_string()),
    }
}

fn parse_prefix(addr: IpAddr, prefix: &str) -> Result<u8, String> {
    let max = if addr.is_ipv4() { 32 } else { 128 };
    // `u8::from_str` accepts a leading '+'; a prefix length is digits only.
    let prefix = Some(prefix)
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|p| p.parse::<u8>().ok())
        .filter(|p| *p <= max)
        .ok_or_else(|| format!("prefix length {prefix:?} is not between 0 and {max}"))?;
    Ok(prefix)
}

/// Collects requested addresses from all sources, dropping duplicates but
/// keeping first-seen order (the daemon may treat order as preference).
pub fn dedup(addrs: impl IntoIterator<Item = IpAddr>) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    for addr in addrs {
        if !out.contains(&addr) {
            out.push(addr);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_needs_a_valid_prefix_for_its_family() {
        assert_eq!(
            parse_cidr("10.6.168.101/16"),
            Ok(("10.6.168.101".parse().expect("ip"), 16))
        );
        assert_eq!(
            parse_cidr("fd00::1/64"),
            Ok(("fd00::1".parse().expect("ip"), 64))
        );
        for bad in [
            "10.0.0.1",
            "10.0.0.1/33",
            "fd00::1/129",
            "10.0.0.1/",
            "10.0.0.1/+8",
            "x/8",
        ] {
            assert!(parse_cidr(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn requested_addresses_lose_their_prefix() {
        assert_eq!(
            parse_requested("10.1.2.3/24"),
            Ok("10.1.2.3".parse().expect("ip"))
        );
        assert_eq!(
            parse_requested("10.1.2.3"),
            Ok("10.1.2.3".parse().expect("ip"))
        );
        assert_eq!(
            parse_requested("FD00::0001"),
            Ok("fd00::1".parse().expect("ip"))
        );
        for bad in ["10.1.2", "10.1.2.3/40", "", "host.example"] {
            assert!(parse_requested(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dedup_keeps_first_order() {
        let a: IpAddr = "10.0.0.1".parse().expect("ip");
        let b: IpAddr = "10.0.0.2".parse().expect("ip");
        assert_eq!(dedup([b, a, b, a]), vec![b, a]);
    }
}
