//! The allocator as the chain sees it during one request: bindings of an
//! identity, and whether an address may be handed to this request.

use super::Allocator;
use crate::chain::ChainHost;
use berth_policy_sdk::{Binding, Candidate, Identity, Pool as PoolView};
use std::net::IpAddr;

/// [`ChainHost`] for one request: only the request's pools count.
pub(super) struct RequestHost<'a> {
    pub alloc: &'a Allocator,
    /// Indexes of the request's pools (one family).
    pub pools: &'a [usize],
}

impl ChainHost for RequestHost<'_> {
    fn bindings_of(&self, identity: &Identity) -> Vec<Binding> {
        self.alloc
            .records_of_identity(&identity.key)
            .into_iter()
            .map(|r| Binding {
                pool: r.pool.clone(),
                address: r.address.to_string(),
                interface: r.interface.clone(),
                family: r.family(),
                attached: r.is_attached(),
            })
            .collect()
    }

    fn is_assignable(&self, candidate: &Candidate, identity: Option<&Identity>) -> bool {
        let Ok(address) = candidate.address.parse::<IpAddr>() else {
            return false;
        };
        let Some(pool) = self.alloc.pool_index.get(&candidate.pool).copied() else {
            return false;
        };
        self.pools.contains(&pool)
            && self
                .alloc
                .can_take(pool, address, identity.map(|i| i.key.as_str()))
    }

    /// From the pool's free index: O(log n + limit) whatever the range.
    fn free_in_range(&self, pool: &str, first: IpAddr, last: IpAddr, limit: usize) -> Vec<IpAddr> {
        let Some(i) = self.request_pool(pool) else {
            return Vec::new();
        };
        let p = &self.alloc.pools[i];
        if p.disabled {
            return Vec::new();
        }
        // A range reaching past the subnet is cut to it: asking for
        // "everything from .1" must not come back empty.
        let (network, broadcast) = (p.subnet.network(), p.subnet.broadcast());
        if first.is_ipv4() != network.is_ipv4() || last.is_ipv4() != network.is_ipv4() {
            return Vec::new();
        }
        let (Some(from), Some(to)) = (
            p.offset_of(first.max(network)),
            p.offset_of(last.min(broadcast)),
        ) else {
            return Vec::new();
        };
        self.alloc.free[i]
            .free_between(from, to, limit)
            .into_iter()
            .map(|off| p.address_at(off))
            .collect()
    }

    fn released_at(&self, pool: &str, address: IpAddr) -> Option<u64> {
        let i = self.request_pool(pool)?;
        self.alloc.pools[i].offset_of(address)?;
        self.alloc.released_at(address)
    }
}

impl RequestHost<'_> {
    /// The index of `pool` if it is one of the request's pools.
    fn request_pool(&self, pool: &str) -> Option<usize> {
        let i = self.alloc.pool_index.get(pool).copied()?;
        self.pools.contains(&i).then_some(i)
    }
}

impl Allocator {
    /// Whether `address` of pool `pool` may be handed to a request bound to
    /// `identity`: assignable there, and either already that identity's
    /// (kept even when the pool was disabled since) or free in a pool that
    /// hands out new addresses and is not reserved.
    pub(super) fn can_take(&self, pool: usize, address: IpAddr, identity: Option<&str>) -> bool {
        let p = &self.pools[pool];
        let Some(offset) = p.offset_of(address) else {
            return false;
        };
        if !p.ranges().contains(offset) {
            return false;
        }
        match self.records.get(&address) {
            None if p.disabled || self.reserved.contains(address) => false,
            None => {
                assert!(
                    self.free[pool].is_free(offset),
                    "index holds {address} without a record"
                );
                true
            }
            Some(r) => r.pool == p.name && identity.is_some_and(|k| r.identity_key() == Some(k)),
        }
    }

    /// The policy's view of a pool.
    pub(super) fn pool_view(&self, pool: usize, namespace: &str) -> PoolView {
        let p = &self.pools[pool];
        let used = self
            .namespace_used
            .get(&(p.name.clone(), namespace.to_owned()))
            .copied()
            .unwrap_or(0);
        PoolView {
            name: p.name.clone(),
            subnet: p.subnet.to_string(),
            family: p.family,
            total: p.total(),
            free: if p.disabled {
                0
            } else {
                (p.total() - self.reserved_total[pool]).saturating_sub(self.free[pool].held())
            },
            namespace_used: used,
        }
    }

    /// Up to `max` free addresses spread over `pools`, best first: each
    /// pool (in priority order) contributes an equal share from its search start.
    pub(super) fn sample(&self, pools: &[usize], max: usize) -> Vec<Candidate> {
        // A disabled pool offers nothing new; the identity's own bindings
        // reach the chain through `bindings_of`, not this sample.
        let pools: Vec<usize> = pools
            .iter()
            .copied()
            .filter(|i| !self.pools[*i].disabled)
            .collect();
        let share = (max / pools.len().max(1)).max(1);
        let mut out = Vec::with_capacity(max);
        for i in pools {
            let take = share.min(max - out.len());
            if take == 0 {
                break;
            }
            let pool = &self.pools[i];
            out.extend(
                self.free[i]
                    .first_free(self.search_start(i), take)
                    .into_iter()
                    .map(|off| Candidate {
                        pool: pool.name.clone(),
                        address: pool.address_at(off).to_string(),
                    }),
            );
        }
        out
    }

    /// First free address of pool `i`, from its search start.
    pub(super) fn first_free(&self, i: usize) -> Option<IpAddr> {
        if self.pools[i].disabled {
            return None;
        }
        let off = self.free[i]
            .first_free(self.search_start(i), 1)
            .into_iter()
            .next()?;
        Some(self.pools[i].address_at(off))
    }
}
