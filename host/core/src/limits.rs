//! Every bound Berth enforces, in one place. Units are last in names.

// The contract's bounds are enforced by the chain's legality rules, which
// live in the SDK so policies' native tests apply them too.
pub use berth_policy_sdk::limits::{
    CHAIN_BINDINGS_MAX, DECISION_CANDIDATES_MAX, DECISION_STRING_BYTES_MAX, IDENTITY_KEY_BYTES_MAX,
    QUERY_RANGE_RESULTS_MAX, QUERY_RANGE_SCAN_MAX, QUERY_STRING_BYTES_MAX, REASON_BYTES_MAX,
};

/// Freed addresses whose release time the allocator remembers for
/// `released-at` queries (~50 B each); older ones are forgotten.
pub const RELEASE_TIMES_MAX: usize = 4096;
/// Free candidates handed to the policy chain per request.
pub const CHAIN_CANDIDATES_MAX: usize = 32;
/// Pools a request may consider.
pub const REQUEST_POOLS_MAX: usize = 64;
/// Policies in one chain.
pub const CHAIN_POLICIES_MAX: usize = 32;
/// Labels / forwarded annotations passed to policies.
pub const REQUEST_PAIRS_MAX: usize = 64;
/// Bytes of one label or annotation value passed to policies.
pub const REQUEST_PAIR_BYTES_MAX: usize = 1024;
/// Bytes of a container id (runtimes use 64 hex digits; the spec allows
/// any alphanumeric, '_', '.', '-' string).
pub const CONTAINER_ID_BYTES_MAX: usize = 256;
/// Bytes of an interface name (the kernel's IFNAMSIZ less the NUL).
pub const IFNAME_BYTES_MAX: usize = 15;
/// Bytes of a CNI network name, a pod namespace, name or UID.
pub const REQUEST_NAME_BYTES_MAX: usize = 253;

// ---- Allocation core (pools, records, allocator) ----

/// Bytes of a pool name (a Kubernetes object name).
pub const POOL_NAME_BYTES_MAX: usize = 253;
/// Entries of a pool's `ips` or `excludeIps`.
pub const POOL_ENTRIES_MAX: usize = 4096;
/// Routes of one pool.
pub const POOL_ROUTES_MAX: usize = 64;
/// Bytes of an IP address as text: the longest IPv6 form, eight groups
/// ending in a dotted quad (`ffff:...:ffff:255.255.255.255`). The BerthPool
/// CRD declares these lengths too: the API server prices CEL rules by them.
pub const ADDRESS_TEXT_BYTES_MAX: usize = 45;
/// Bytes of a CIDR as text (an address and `/128`).
pub const CIDR_TEXT_BYTES_MAX: usize = ADDRESS_TEXT_BYTES_MAX + 4;
/// Bytes of one `ips` / `excludeIps` entry: a range `start-end` is longest.
pub const POOL_ENTRY_BYTES_MAX: usize = 2 * ADDRESS_TEXT_BYTES_MAX + 1;
/// Bytes of removed records the allocator's record slab may carry before
/// it is compacted (it is compacted once they also outnumber the live
/// bytes): below this a rewrite would cost more than the room it frees.
pub const RECORD_SLAB_COMPACT_BYTES_MIN: usize = 64 * 1024;
/// The record slab's size: its offsets are 32 bits, which keeps each index
/// entry small. 4 GiB is ~30 million packed records, beyond any node.
pub const RECORD_SLAB_BYTES_MAX: usize = u32::MAX as usize;
/// Pools the allocator holds.
pub const POOLS_MAX: usize = 4096;
/// Reserved entries in all (every BerthReservedIP, or `reserved` in a
/// single-host config); one BerthReservedIP lists at most
/// `POOL_ENTRIES_MAX`, like a pool's `ips`.
pub const RESERVED_ENTRIES_MAX: usize = 65_536;
/// Trace lines kept on one record (identify + evaluate per policy).
pub const RECORD_TRACE_STEPS_MAX: usize = 2 * CHAIN_POLICIES_MAX;
/// Addresses one ADD may request (one per family).
pub const REQUESTED_ADDRESSES_MAX: usize = 2;

// ---- What the pod gets besides its address (routes, DNS) ----

/// Nameservers of one pool: the resolver (glibc's MAXNS, musl alike) uses
/// the first three of resolv.conf and ignores the rest.
pub const POOL_DNS_NAMESERVERS_MAX: usize = 3;
/// Search domains of one pool: Kubernetes' own bound on a pod's DNS search
/// list (`MaxDNSSearchPaths`).
pub const POOL_DNS_SEARCH_MAX: usize = 32;
/// Resolver options of one pool (`ndots:5`, `edns0`, ...); resolv.conf
/// knows about a dozen.
pub const POOL_DNS_OPTIONS_MAX: usize = 16;
/// Bytes of one resolver option.
pub const POOL_DNS_OPTION_BYTES_MAX: usize = 64;
/// Bytes of a DNS name (RFC 1035, in text form).
pub const DNS_NAME_BYTES_MAX: usize = 253;
/// Routes one pod annotation (`berth.io/routes`, `ipam.spidernet.io/routes`)
/// may add, as many as a pool may carry.
pub const POD_ROUTES_MAX: usize = POOL_ROUTES_MAX;
