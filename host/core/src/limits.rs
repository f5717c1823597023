//! Every bound Berth enforces, in one place. Units are last in names.

/// Free candidates handed to the policy chain per request.
pub const CHAIN_CANDIDATES_MAX: usize = 32;
/// Bindings of one identity passed to the chain.
pub const CHAIN_BINDINGS_MAX: usize = 16;
/// Candidates a single decision may list (narrow / reorder).
pub const DECISION_CANDIDATES_MAX: usize = 256;
/// Pools a request may consider.
pub const REQUEST_POOLS_MAX: usize = 64;
/// Policies in one chain.
pub const CHAIN_POLICIES_MAX: usize = 32;
/// Bytes of an identity key (a Kubernetes name is at most 253).
pub const IDENTITY_KEY_BYTES_MAX: usize = 253;
/// Bytes of a rejection reason kept and reported.
pub const REASON_BYTES_MAX: usize = 1024;
/// Bytes of an address or pool string in a decision.
pub const DECISION_STRING_BYTES_MAX: usize = 256;
/// Labels / forwarded annotations passed to policies.
pub const REQUEST_PAIRS_MAX: usize = 64;
/// Bytes of one label or annotation value passed to policies.
pub const REQUEST_PAIR_BYTES_MAX: usize = 1024;
