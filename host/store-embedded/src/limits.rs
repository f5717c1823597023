//! The embedded store's bounds. Units are last in names.

/// Bytes of redb's page cache. Reads happen once, at start (the allocator
/// keeps the state in memory), so the cache mainly serves writes; redb's
/// default of 1 GiB would let RSS grow with the store file.
pub const STORE_CACHE_BYTES_MAX: usize = 8 << 20;
/// Size of the embedded store's health probe write: about a 64-record
/// batch, so a probe that fits says a real write would.
pub const STORE_PROBE_BYTES: usize = 64 * 1024;
