//! The host's answers to a policy's queries (`berth:policy/query@0.2.0`),
//! on the wire's terms: strings in, bounded strings out. The Wasm runtime's
//! imports and the native harness both answer through these functions, so
//! a policy sees the same bounds and the same "unknown means not free" in
//! its unit tests as in the daemon.
//!
//! Nothing here trusts the policy: an unparsable address, a pool that is
//! not one of the request's, a range across families or backwards is
//! answered as "nothing free" (never an error that would fail the call),
//! and a range answer is capped at [`QUERY_RANGE_RESULTS_MAX`] whatever
//! limit was asked for.

use super::ChainHost;
use crate::addr::{parse_ip, AddrRange};
use crate::limits::{QUERY_RANGE_RESULTS_MAX, QUERY_RANGE_SCAN_MAX, QUERY_STRING_BYTES_MAX};
use crate::Candidate;
use std::net::IpAddr;

/// `is-free(pool, address)`: assignable to a new binding of this request.
pub fn answer_is_free(host: &dyn ChainHost, pool: &str, address: &str) -> bool {
    let Some(address) = address_of(pool, address) else {
        return false;
    };
    let candidate = Candidate {
        pool: pool.to_owned(),
        address: address.to_string(),
    };
    host.is_assignable(&candidate, None)
}

/// `free-in-range(pool, first, last, limit)`.
pub fn answer_free_in_range(
    host: &dyn ChainHost,
    pool: &str,
    first: &str,
    last: &str,
    limit: u32,
) -> Vec<String> {
    let (Some(first), Some(last)) = (address_of(pool, first), address_of(pool, last)) else {
        return Vec::new();
    };
    let Ok(range) = AddrRange::new(first, last) else {
        return Vec::new();
    };
    let limit = usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .min(QUERY_RANGE_RESULTS_MAX);
    if limit == 0 {
        return Vec::new();
    }
    let mut found = host.free_in_range(pool, first, last, limit);
    // The host's answer is checked like a policy's would be: in range,
    // ascending, once each, within the limit.
    found.retain(|a| range.contains(*a));
    found.sort_unstable();
    found.dedup();
    found.truncate(limit);
    found.into_iter().map(|a| a.to_string()).collect()
}

/// `released-at(pool, address)`.
pub fn answer_released_at(host: &dyn ChainHost, pool: &str, address: &str) -> Option<u64> {
    host.released_at(pool, address_of(pool, address)?)
}

fn address_of(pool: &str, address: &str) -> Option<IpAddr> {
    if pool.len() > QUERY_STRING_BYTES_MAX || address.len() > QUERY_STRING_BYTES_MAX {
        return None;
    }
    parse_ip(address).ok()
}

/// [`ChainHost::free_in_range`]'s default: `is_assignable` address by
/// address, stopping after [`QUERY_RANGE_SCAN_MAX`] addresses.
pub(super) fn scan_free<H: ChainHost + ?Sized>(
    host: &H,
    pool: &str,
    first: IpAddr,
    last: IpAddr,
    limit: usize,
) -> Vec<IpAddr> {
    let Ok(range) = AddrRange::new(first, last) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut n: u128 = 0;
    while out.len() < limit && n < QUERY_RANGE_SCAN_MAX {
        let Some(address) = range.nth(n) else {
            break;
        };
        let candidate = Candidate {
            pool: pool.to_owned(),
            address: address.to_string(),
        };
        if host.is_assignable(&candidate, None) {
            out.push(address);
        }
        n += 1;
    }
    out
}
