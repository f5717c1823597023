//! The allocator as a policy's unit test sees it: which addresses are
//! free, which the identity holds, when addresses were released. It
//! answers the policy's queries (`crate::query`) and the chain's legality
//! checks, as the daemon's allocator does for one request.

use crate::addr::{parse_ip, AddrRange};
use crate::chain::ChainHost;
use crate::{Binding, Candidate, Identity, Request};
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

/// A fake of the allocator's view for one request. Only the request's
/// pools are known, as in the daemon.
#[derive(Debug, Clone, Default)]
pub struct FakeView {
    pools: Vec<String>,
    free: BTreeSet<(String, IpAddr)>,
    held: Vec<Binding>,
    released: HashMap<(String, IpAddr), u64>,
}

impl FakeView {
    /// The view a request implies: its pools, its candidates free, its
    /// bindings held by whatever identity the chain states.
    pub fn of(request: &Request) -> Self {
        let mut view = Self {
            pools: request.pools.iter().map(|p| p.name.clone()).collect(),
            held: request.bindings.clone(),
            ..Self::default()
        };
        for c in &request.candidates {
            view = view.free(&c.pool, &c.address);
        }
        view
    }

    /// Also free: `address`, or every address of `first-last`.
    ///
    /// # Panics
    /// On an address that does not parse (a mistake in the test).
    pub fn free(mut self, pool: &str, addresses: &str) -> Self {
        let range = AddrRange::parse(addresses)
            .unwrap_or_else(|e| panic!("FakeView::free({pool:?}, {addresses:?}): {e}"));
        let mut n = 0;
        while let Some(a) = range.nth(n) {
            self.free.insert((pool.to_owned(), a));
            n += 1;
        }
        self
    }

    /// No longer free: `address`, or every address of `first-last`.
    pub fn taken(mut self, pool: &str, addresses: &str) -> Self {
        let range = AddrRange::parse(addresses)
            .unwrap_or_else(|e| panic!("FakeView::taken({pool:?}, {addresses:?}): {e}"));
        self.free
            .retain(|(p, a)| !(p.as_str() == pool && range.contains(*a)));
        self
    }

    /// Addresses the request's identity holds (replacing earlier ones).
    pub fn held(mut self, bindings: &[Binding]) -> Self {
        self.held = bindings.to_vec();
        self
    }

    /// `address` was let go by a pod at `at_unix_secs`.
    pub fn released(mut self, pool: &str, address: &str, at_unix_secs: u64) -> Self {
        let a = parse_ip(address).unwrap_or_else(|e| panic!("FakeView::released: {e}"));
        self.released.insert((pool.to_owned(), a), at_unix_secs);
        self
    }

    fn known(&self, pool: &str) -> bool {
        self.pools.iter().any(|p| p == pool)
    }
}

impl ChainHost for FakeView {
    fn bindings_of(&self, _identity: &Identity) -> Vec<Binding> {
        self.held.clone()
    }

    fn is_assignable(&self, candidate: &Candidate, identity: Option<&Identity>) -> bool {
        let Ok(address) = parse_ip(&candidate.address) else {
            return false;
        };
        if !self.known(&candidate.pool) {
            return false;
        }
        let held = || {
            self.held
                .iter()
                .any(|b| b.pool == candidate.pool && parse_ip(&b.address).ok() == Some(address))
        };
        self.free.contains(&(candidate.pool.clone(), address)) || (identity.is_some() && held())
    }

    fn free_in_range(&self, pool: &str, first: IpAddr, last: IpAddr, limit: usize) -> Vec<IpAddr> {
        if !self.known(pool) || first > last {
            return Vec::new();
        }
        self.free
            .range((pool.to_owned(), first)..=(pool.to_owned(), last))
            .map(|(_, a)| *a)
            .take(limit)
            .collect()
    }

    fn released_at(&self, pool: &str, address: IpAddr) -> Option<u64> {
        self.released.get(&(pool.to_owned(), address)).copied()
    }
}
