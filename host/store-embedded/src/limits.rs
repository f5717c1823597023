//! The embedded store's bounds. Units are last in names.

/// Bytes of redb's page cache. Reads happen once, at start (the allocator
/// keeps the state in memory), so the cache mainly serves writes; redb's
/// default of 1 GiB would let RSS grow with the store file. Measured in
/// one session (memory bench RSS at 100,000 allocations / redb commit mean
/// in the CNI bench): 8 MiB 94.9 MiB / 379 µs, 4 MiB 89.4 / 397, 2 MiB
/// 88.9 / 425.
pub const STORE_CACHE_BYTES_MAX: usize = 4 << 20;
/// Size of the embedded store's health probe write: about a 64-record
/// batch, so a probe that fits says a real write would.
pub const STORE_PROBE_BYTES: usize = 64 * 1024;
