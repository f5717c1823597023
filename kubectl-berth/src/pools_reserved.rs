//! The RESERVED column of `kubectl berth pools`: how many of each valid
//! pool's assignable addresses the cluster's BerthReservedIPs cover, as
//! every node counts them (`berth_core::Reserved::count_in`).

use crate::pools::PoolRow;
use berth_core::Reserved;
use berth_kube::pool_admission::judge;
use berth_kube::BerthPool;

/// Sets `reserved` on every row of a valid pool (invalid and removed pools
/// hand out nothing, so they count none).
pub fn fill(rows: &mut [PoolRow], pools: &[BerthPool], reserved: &Reserved) {
    let verdict = judge(pools);
    for row in rows {
        row.reserved = verdict
            .valid
            .iter()
            .find(|p| p.name == row.name && !row.removed)
            .map_or(0, |p| reserved.count_in(p));
    }
}
