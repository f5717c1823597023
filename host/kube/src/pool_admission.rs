//! The cluster's BerthPools judged together, as every node judges them: in
//! precedence order (oldest `creationTimestamp` first, then name), each
//! valid on its own merits, an overlap invalidating the later pool (see
//! `berth_core::admission`). The daemon takes the valid ones; the status
//! writer reports the verdict on each pool.

use crate::convert::pool_spec;
use crate::crd_pool::BerthPool;
use berth_core::admission::{admit, Admitted};
use berth_core::pool::{Pool, PoolError, PoolSpec};
use kube::ResourceExt;

/// Each pool's spec, or why it cannot even be read, in precedence order.
pub fn candidates(pools: &[BerthPool]) -> Vec<Result<PoolSpec, PoolError>> {
    let mut ordered: Vec<&BerthPool> = pools.iter().collect();
    ordered.sort_by(|a, b| {
        let created = |p: &BerthPool| p.metadata.creation_timestamp.as_ref().map(|t| t.0);
        created(a)
            .cmp(&created(b))
            .then_with(|| a.name_any().cmp(&b.name_any()))
    });
    ordered
        .into_iter()
        .map(|p| {
            pool_spec(p).map_err(|e| PoolError {
                pool: p.name_any(),
                field: "metadata",
                problem: e.problem,
            })
        })
        .collect()
}

/// The verdict on every pool of `pools`.
pub fn judge(pools: &[BerthPool]) -> Admitted {
    admit(
        candidates(pools)
            .into_iter()
            .map(|spec| spec.and_then(|s| Pool::from_spec(&s)))
            .collect(),
    )
}
