//! The allocator: pools, their free indexes and the records of held
//! addresses, with indexes by attachment and by identity.
//!
//! Every change is planned first (`plan_*`, `&self`, returning mutations)
//! and applied after the store persisted it ([`Allocator::apply`]). The
//! daemon does plan → persist → apply → answer, so a crash between any two
//! steps leaves the store as the truth and a restart rebuilds from it.

mod absorb;
mod add;
mod holders;
mod host;
mod input;
mod packed;
mod release;
mod released;
mod reserved;
mod restore;
mod scope;
mod state;
mod table;

pub use absorb::Absorbed;
pub use input::{AddInput, AddPlan, Assigned};
pub use restore::{Restored, Superseded};
pub use scope::NodeScope;

use crate::free_index::FreeIndex;
use crate::limits::POOLS_MAX;
use crate::pool::{Pool, PoolError};
use crate::record::AddressRecord;
use crate::reserved::Reserved;
use berth_policy_sdk::IpFamily;
use berth_proto::Attachment;
use ipnet::IpNet;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::net::IpAddr;

/// Usage of one pool, for `kubectl get`, metrics and the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolUsage {
    pub name: String,
    pub subnet: IpNet,
    pub family: IpFamily,
    pub used: u64,
    pub total: u64,
    pub default: bool,
    pub disabled: bool,
    /// Assignable addresses that are reserved (held ones included).
    pub reserved: u64,
}

/// What [`Allocator::holdings_by_pool`] says of one pool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holdings {
    /// Records naming the pool.
    pub held: u64,
    /// Their addresses the pool does not assign (now), in order.
    pub orphaned: Vec<IpAddr>,
}

type FixedState = BuildHasherDefault<DefaultHasher>;

#[derive(Debug, Clone, Default)]
pub struct Allocator {
    /// In configuration order.
    pools: Vec<Pool>,
    pool_index: HashMap<String, usize>,
    /// Parallel to `pools`: the offerable addresses (assignable and not
    /// reserved) and which of them are held.
    free: Vec<FreeIndex>,
    /// Addresses no pool hands out (see `reserved.rs`).
    reserved: Reserved,
    /// Parallel to `pools`: assignable addresses that are reserved, and how
    /// many of those are held (reserved after they were handed out).
    reserved_total: Vec<u64>,
    reserved_held: Vec<u64>,
    /// Parallel to `pools`: where the next search for free addresses
    /// starts, so a just-freed address is not handed out again at once.
    cursors: Vec<u128>,
    /// Set by [`Allocator::spread_cursors`]: searches start at a point
    /// mixed from this seed instead of at `cursors`.
    spread_seed: Option<u64>,
    /// Addresses newly held since this allocator was built: with the held
    /// count, moves the spread search start after every allocation, so a
    /// just-freed address is not the next one handed out.
    spread_step: u64,
    // Hash maps: a lookup touches one bucket however many records there
    // are (a 65k-entry B-tree costs several cache misses per ADD). The
    // hasher has fixed keys so iteration, and thus every plan, is the same
    // on every run; plans that iterate sort their output anyway.
    records: table::RecordTable,
    by_identity: HashMap<Box<str>, holders::Holders>,
    /// (pool, namespace) -> held addresses.
    namespace_used: HashMap<(String, String), u64>,
    /// Records whose pool is gone or does not assign their address any
    /// more (pool, address): kept so views and pool status need not
    /// decode every record to find them.
    misplaced: BTreeSet<(String, IpAddr)>,
    /// pool -> its records retained for an identity (no container): what
    /// a pool-exhausted error reports, without decoding every record.
    retained_by_pool: HashMap<String, u64>,
    /// (expiry, address) of retained records with an expiry.
    expiries: BTreeSet<(u64, IpAddr)>,
    /// Records that lost an identity or attachment slot to another record
    /// at restore (a partial write of a non-transactional store): held, so
    /// nobody else gets the address, but in no slot index, and released by
    /// their owning node (see `restore.rs`).
    superseded: BTreeSet<IpAddr>,
    /// When pods let go of addresses now free (`released.rs`).
    release_times: released::ReleaseTimes,
}

impl Allocator {
    pub fn new(pools: Vec<Pool>) -> Result<Self, PoolError> {
        Self::with_reserved(pools, Reserved::default())
    }

    pub fn with_reserved(pools: Vec<Pool>, reserved: Reserved) -> Result<Self, PoolError> {
        let mut alloc = Allocator::default();
        alloc.configure(pools, reserved)?;
        Ok(alloc)
    }

    /// Swaps the pool configuration (reload), keeping the reservations.
    /// Records are never dropped: those of removed pools, or outside their
    /// pool's ranges now, are kept and returned as orphaned until released.
    pub fn replace_pools(&mut self, pools: Vec<Pool>) -> Result<Vec<String>, PoolError> {
        self.reconfigure(pools, self.reserved.clone())
    }

    /// Swaps pools and reservations together; see [`Self::replace_pools`].
    /// A held address that became reserved stays with its holder.
    pub fn reconfigure(
        &mut self,
        pools: Vec<Pool>,
        reserved: Reserved,
    ) -> Result<Vec<String>, PoolError> {
        let mut fresh = Allocator::default();
        fresh.configure(pools, reserved)?;
        fresh.spread_seed = self.spread_seed;
        for (i, pool) in fresh.pools.iter().enumerate() {
            if let Some(old) = self.pool_index.get(&pool.name) {
                fresh.cursors[i] = self.cursors[*old].min(pool.max_offset());
            }
        }
        let records = self.records.drain();
        for record in records {
            let key = record.key();
            // The records were consistent together before; pools do not
            // take part in those checks, so they stay consistent.
            if let Err(problem) = self.reinsert_into(&mut fresh, record) {
                panic!("record {key} became inconsistent on pool reload: {problem}");
            }
        }
        fresh.spread_seed = self.spread_seed;
        fresh.release_times = std::mem::take(&mut self.release_times);
        *self = fresh;
        Ok(self.orphaned().iter().map(|r| r.key()).collect())
    }

    /// Makes every search for free addresses start at a point mixed from
    /// `seed` (a hash of the node name in Kubernetes mode), the pool, how
    /// many addresses the pool holds and how many this allocator handed
    /// out, so nodes sharing a pool probe it
    /// at scattered points instead of racing along the same run. (Contiguous
    /// runs from per-node start points collide as soon as two runs meet and
    /// then convoy: the k8s_adds bench measured 3.7 API writes per
    /// allocation that way, against ~1.1 with scattered starts.) Any free
    /// address can still be found, because the search wraps around.
    pub fn spread_cursors(&mut self, seed: u64) {
        self.spread_seed = Some(seed);
    }

    /// Where pool `i`'s search for free addresses starts.
    pub(super) fn search_start(&self, i: usize) -> u128 {
        let Some(seed) = self.spread_seed else {
            return self.cursors[i];
        };
        let mut x = seed
            ^ (i as u64).rotate_left(32)
            ^ self.free[i].held().wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ self.spread_step.rotate_left(17);
        // splitmix64's finaliser: neighbouring inputs land far apart.
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 31;
        // A rank among the assignable offsets, not an offset of the subnet:
        // a pool using 4,094 addresses of a /16 would otherwise wrap to its
        // lowest free address from 94 % of the starts.
        let pool = &self.pools[i];
        let count = u128::from(pool.total()).max(1);
        pool.ranges().nth(u128::from(x) % count).unwrap_or(0)
    }

    fn configure(&mut self, pools: Vec<Pool>, reserved: Reserved) -> Result<(), PoolError> {
        check_pool_set(&pools)?;
        self.pool_index = pools
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.clone(), i))
            .collect();
        let offerable: Vec<_> = pools.iter().map(|p| reserved.unreserved_in(p)).collect();
        self.reserved_total = pools.iter().map(|p| reserved.count_in(p)).collect();
        self.free = pools
            .iter()
            .zip(&offerable)
            .map(|(p, o)| FreeIndex::new(o, p.max_offset()))
            .collect();
        self.reserved_held = vec![0; pools.len()];
        self.cursors = vec![0; pools.len()];
        self.pools = pools;
        self.reserved = reserved;
        Ok(())
    }

    pub fn pools(&self) -> &[Pool] {
        &self.pools
    }

    pub fn pool(&self, name: &str) -> Option<&Pool> {
        self.pool_index.get(name).map(|i| &self.pools[*i])
    }

    pub fn pool_usage(&self) -> Vec<PoolUsage> {
        self.pools
            .iter()
            .zip(&self.free)
            .enumerate()
            .map(|(i, (p, f))| PoolUsage {
                name: p.name.clone(),
                subnet: p.subnet,
                family: p.family,
                used: f.held() + self.reserved_held[i],
                total: p.total(),
                default: p.default,
                disabled: p.disabled,
                reserved: self.reserved_total[i],
            })
            .collect()
    }

    /// Every record, in no particular order. Records are kept packed
    /// (`packed.rs`): each is decoded as the iterator reaches it.
    pub fn records(&self) -> impl Iterator<Item = AddressRecord> + '_ {
        self.records.values()
    }

    pub fn record(&self, address: IpAddr) -> Option<AddressRecord> {
        self.records.get(&address)
    }

    pub fn records_of_attachment(&self, attachment: &Attachment) -> Vec<AddressRecord> {
        self.records.of_attachment(attachment)
    }

    pub fn records_of_identity(&self, key: &str) -> Vec<AddressRecord> {
        self.by_identity
            .get(key)
            .map_or(&[][..], holders::Holders::as_slice)
            .iter()
            .filter_map(|address| self.records.get(address))
            .collect()
    }

    /// Records whose pool is gone or no longer covers their address.
    pub fn orphaned(&self) -> Vec<AddressRecord> {
        self.misplaced
            .iter()
            .filter_map(|(_, a)| self.records.get(a))
            .collect()
    }

    /// For every pool name some record names (a pool absent here holds
    /// nothing): how many records name it, and the addresses of those its
    /// ranges no longer assign — a pool's status without reading any
    /// record.
    pub fn holdings_by_pool(&self) -> BTreeMap<String, Holdings> {
        let mut all: BTreeMap<String, Holdings> = BTreeMap::new();
        for ((pool, _), n) in &self.namespace_used {
            all.entry(pool.clone()).or_default().held += n;
        }
        for (pool, address) in &self.misplaced {
            all.entry(pool.clone()).or_default().orphaned.push(*address);
        }
        all
    }

    /// Index of the pool whose free index holds `address`: the pool whose
    /// offerable (assignable, unreserved) addresses contain it — at most
    /// one, since pools never overlap.
    fn pool_covering(&self, pool: &str, address: IpAddr) -> Option<usize> {
        let offers = |i: &usize| {
            self.pools[*i]
                .offset_of(address)
                .is_some_and(|o| self.free[*i].is_assignable(o))
        };
        let named = self.pool_index.get(pool).copied().filter(offers);
        named.or_else(|| (0..self.pools.len()).find(offers))
    }
}

/// Pool names are unique and no address is assignable in two pools, so an
/// address has one pool and one owner.
fn check_pool_set(pools: &[Pool]) -> Result<(), PoolError> {
    let err = |pool: &str, field, problem: String| PoolError {
        pool: pool.to_owned(),
        field,
        problem,
    };
    if pools.len() > POOLS_MAX {
        let name = pools.get(POOLS_MAX).map_or("", |p| p.name.as_str());
        return Err(err(name, "name", format!("more than {POOLS_MAX} pools")));
    }
    let mut names = HashSet::new();
    for pool in pools {
        if !names.insert(pool.name.as_str()) {
            return Err(err(&pool.name, "name", "defined twice".to_owned()));
        }
    }
    for family in [IpFamily::V4, IpFamily::V6] {
        let mut spans: Vec<(u128, u128, &str)> = pools
            .iter()
            .filter(|p| p.family == family)
            .flat_map(|p| {
                p.absolute_ranges()
                    .map(move |(s, e)| (s, e, p.name.as_str()))
            })
            .collect();
        spans.sort_unstable();
        for pair in spans.windows(2) {
            let ((_, end, a), (start, _, b)) = (pair[0], pair[1]);
            if start <= end {
                return Err(err(
                    b,
                    "ips",
                    format!("overlaps the addresses of pool {a:?}"),
                ));
            }
        }
    }
    Ok(())
}
