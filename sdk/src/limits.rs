//! The bounds of the contract that the chain's legality rules enforce.
//! They live here, beside the rules (`chain`), so a policy's native tests
//! and the daemon refuse the same answers; `berth-core`'s `limits` module
//! re-exports them with every other bound Berth enforces.

/// Bindings of one identity passed to the chain.
pub const CHAIN_BINDINGS_MAX: usize = 16;
/// Candidates a single decision may list (narrow / reorder).
pub const DECISION_CANDIDATES_MAX: usize = 256;
/// Bytes of an identity key (a Kubernetes name is at most 253).
pub const IDENTITY_KEY_BYTES_MAX: usize = 253;
/// Bytes of a rejection reason kept and reported.
pub const REASON_BYTES_MAX: usize = 1024;
/// Bytes of an address or pool string in a decision.
pub const DECISION_STRING_BYTES_MAX: usize = 256;
/// Addresses one `free-in-range` query answers at most, whatever limit
/// the policy asks for: a query is a look, not a dump of a /16.
pub const QUERY_RANGE_RESULTS_MAX: usize = 256;
/// Addresses a host without a free index (a test or fixture host) walks
/// for one `free-in-range` query before it stops looking.
pub const QUERY_RANGE_SCAN_MAX: u128 = 65_536;
/// Bytes of a pool or address string a query may pass; longer ones are
/// answered as unknown without being read.
pub const QUERY_STRING_BYTES_MAX: usize = 256;

/// Natively (the test harness), a runaway test must not eat all memory:
/// beyond this many captured log messages the oldest are dropped.
pub const LOG_CAPTURE_MAX: usize = 10_000;
