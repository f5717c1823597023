//! Orphaned addresses: held, but outside their pool's assignable ranges
//! now (the ranges shrank under them) or of a BerthPool that is gone.
//! They stay with their holders and are never handed out again once
//! released; berthd counts the first kind in the pool's `status.orphaned`
//! with an `Orphaned` condition. `pools` counts them, `allocations` marks
//! them, `check` accepts them while the pool's status counts them.

use crate::read::Held;
use berth_core::admission::Admitted;
use berth_kube::BerthPool;
use kube::ResourceExt;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Whether `held` is orphaned under `verdict` (an invalid pool hands out
/// nothing at all, which its `Valid` condition says; its addresses are
/// not counted as orphaned, as the status writer does not).
pub fn is_orphaned(pools: &BTreeSet<String>, verdict: &Admitted, held: &Held) -> bool {
    let spec = &held.object.spec;
    if !pools.contains(&spec.pool) {
        return true;
    }
    let Ok(address) = spec.address.parse::<IpAddr>() else {
        return false;
    };
    verdict
        .valid
        .iter()
        .find(|p| p.name == spec.pool)
        .is_some_and(|p| !p.is_assignable(address))
}

/// The names of the BerthPools.
pub fn pool_names(pools: &[BerthPool]) -> BTreeSet<String> {
    pools.iter().map(ResourceExt::name_any).collect()
}

/// Orphaned addresses per pool name.
pub fn count(pools: &[BerthPool], verdict: &Admitted, held: &[Held]) -> BTreeMap<String, u64> {
    let names = pool_names(pools);
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for h in held.iter().filter(|h| is_orphaned(&names, verdict, h)) {
        *out.entry(h.object.spec.pool.clone()).or_default() += 1;
    }
    out
}
