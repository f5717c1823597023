//! Pool configuration: JSON into `berth_core::PoolSpec` (one spec, or a
//! list as the daemon config's `pools` holds), each through
//! `Pool::from_spec`, and a valid set into `Allocator::new`, which refuses
//! duplicate names and overlapping pools.
//!
//! Properties of a pool that validates:
//! * its subnet is a network address (no host bits), its family is the
//!   subnet's, its name is a DNS-1123 subdomain of at most 253 bytes;
//! * its assignable ranges are non-empty, sorted, disjoint and
//!   non-adjacent, each with start <= end, all inside the subnet, and
//!   `total` counts them (saturating);
//! * the network address (and the IPv4 broadcast) is never assignable
//!   outside /31, /32, /127 and /128, nor is the gateway, nor any single
//!   address of `excludeIps`;
//! * offsets and addresses convert both ways at the ends of each range;
//! * the free index built from it starts with the first assignable
//!   address free;
//! * spec JSON round-trips, and validation is deterministic.
//!
//! Properties of a pool set the allocator accepts: no two pools share a
//! name or an assignable address, and each starts with nothing used.

#![no_main]

use berth_core::free_index::FreeIndex;
use berth_core::pool::{Pool, PoolSpec};
use berth_core::Allocator;
use berth_policy_sdk::IpFamily;
use libfuzzer_sys::fuzz_target;
use std::net::IpAddr;

fuzz_target!(|data: &[u8]| {
    let specs: Vec<PoolSpec> = if let Ok(list) = serde_json::from_slice(data) {
        list
    } else if let Ok(one) = serde_json::from_slice(data) {
        vec![one]
    } else {
        return;
    };
    let mut pools = Vec::new();
    for spec in &specs {
        let text = serde_json::to_string(spec).expect("specs serialise");
        let back: PoolSpec = serde_json::from_str(&text).expect("own JSON parses");
        assert_eq!(&back, spec, "spec JSON round trip");
        let result = Pool::from_spec(spec);
        assert_eq!(result, Pool::from_spec(spec), "validation is deterministic");
        match result {
            Ok(pool) => {
                check_pool(spec, &pool);
                pools.push(pool);
            }
            Err(e) => {
                assert_eq!(e.pool, spec.name);
                assert!(!e.to_string().is_empty());
            }
        }
    }
    if pools.len() != specs.len() {
        return;
    }
    match Allocator::new(pools.clone()) {
        Ok(alloc) => {
            for (i, a) in pools.iter().enumerate() {
                for b in &pools[i + 1..] {
                    assert_ne!(a.name, b.name, "duplicate pool name accepted");
                    for (s, e) in a.ranges().ranges() {
                        for addr in [a.address_at(*s), a.address_at(*e)] {
                            assert!(
                                !b.is_assignable(addr),
                                "{addr} is in pools {} and {}",
                                a.name,
                                b.name
                            );
                        }
                    }
                    for (s, e) in b.ranges().ranges() {
                        for addr in [b.address_at(*s), b.address_at(*e)] {
                            assert!(!a.is_assignable(addr), "{addr} in two pools");
                        }
                    }
                }
            }
            let usage = alloc.pool_usage();
            assert_eq!(usage.len(), pools.len());
            for u in usage {
                assert_eq!(u.used, 0);
                let pool = alloc.pool(&u.name).expect("usage names a pool");
                assert_eq!(u.total, pool.total());
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});

fn check_pool(spec: &PoolSpec, pool: &Pool) {
    assert_eq!(pool.name, spec.name);
    let name = pool.name.as_bytes();
    assert!(!name.is_empty() && name.len() <= 253, "{:?}", pool.name);
    assert!(name[0].is_ascii_alphanumeric() && name[name.len() - 1].is_ascii_alphanumeric());
    assert!(name
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'.'));

    let subnet = pool.subnet;
    assert_eq!(subnet.network(), subnet.addr(), "host bits in {subnet}");
    let family = match subnet.addr() {
        IpAddr::V4(_) => IpFamily::V4,
        IpAddr::V6(_) => IpFamily::V6,
    };
    assert_eq!(pool.family, family);

    let max = pool.max_offset();
    let ranges = pool.ranges().ranges();
    assert!(!ranges.is_empty(), "a valid pool has an assignable address");
    let mut count: u128 = 0;
    for (i, (s, e)) in ranges.iter().enumerate() {
        assert!(s <= e, "range starts after its end: {s} > {e}");
        assert!(*e <= max, "range {s}-{e} outside the subnet (max {max})");
        if i > 0 {
            let prev_end = ranges[i - 1].1;
            assert!(prev_end < u128::MAX && prev_end + 1 < *s, "ranges touch");
        }
        count = count.saturating_add((e - s).saturating_add(1));
        for off in [*s, *e] {
            let addr = pool.address_at(off);
            assert!(subnet.contains(&addr));
            assert_eq!(pool.offset_of(addr), Some(off));
            assert!(pool.is_assignable(addr));
        }
        if *s > 0 {
            assert!(!pool.is_assignable(pool.address_at(s - 1)));
        }
        if *e < max {
            assert!(!pool.is_assignable(pool.address_at(e + 1)));
        }
    }
    assert_eq!(pool.total(), u64::try_from(count).unwrap_or(u64::MAX));

    if max > 1 {
        assert!(!pool.is_assignable(subnet.network()), "network address");
        if family == IpFamily::V4 {
            assert!(!pool.is_assignable(subnet.broadcast()), "broadcast");
        }
    }
    if let Some(gw) = pool.gateway {
        assert!(subnet.contains(&gw));
        assert!(!pool.is_assignable(gw), "gateway {gw} assignable");
    }
    for entry in &spec.exclude_ips {
        if let Ok(addr) = entry.trim().parse::<IpAddr>() {
            assert!(!pool.is_assignable(addr), "excluded {addr} assignable");
        }
    }
    assert_eq!(pool.routes.len(), spec.routes.len());

    let index = FreeIndex::new(pool.ranges(), max);
    assert_eq!(index.held(), 0);
    assert!(index.is_free(ranges[0].0));
    assert_eq!(index.first_free(0, 1), vec![ranges[0].0]);
    let from_middle = index.first_free(max / 2, 4);
    assert!(!from_middle.is_empty() && from_middle.len() <= 4);
    assert!(from_middle.iter().all(|o| pool.ranges().contains(*o)));
}
