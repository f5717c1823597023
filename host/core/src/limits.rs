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
/// Bytes of a container id (runtimes use 64 hex digits; the spec allows
/// any alphanumeric, '_', '.', '-' string).
pub const CONTAINER_ID_BYTES_MAX: usize = 256;
/// Bytes of an interface name (the kernel's IFNAMSIZ less the NUL).
pub const IFNAME_BYTES_MAX: usize = 15;
/// Bytes of a CNI network name, a pod namespace, name or UID.
pub const REQUEST_NAME_BYTES_MAX: usize = 253;

// ---------------------------------------------------------------------------
// Policy runtime (berth-policy-runtime): how much a Wasm policy may use.
// ---------------------------------------------------------------------------

/// Period of the epoch ticker that wakes the budget check of running
/// guests. 10 ms costs one thread wake-up per tick (negligible) while keeping
/// the check's granularity small next to CNI timeouts.
pub const POLICY_EPOCH_TICK_MS: u64 = 10;
/// CPU time one guest call (or instantiation) may use: ~5,000x a normal
/// call (~10 us), so no honest policy comes near it, yet a runaway policy
/// costs an ADD at most that much CPU. CPU time, not wall time, so a busy
/// node that deschedules the daemon never fails an honest policy.
pub const POLICY_CALL_CPU_MS_MAX: u64 = 50;
/// Wall-clock cap on one guest call, behind the CPU budget: bounds how long
/// a call can hold the allocator when the node starves the daemon of CPU.
pub const POLICY_CALL_WALL_MS_MAX: u64 = 2_000;
/// Bytes of linear memory a policy may use beyond what its component
/// declares at start (a Rust guest declares ~1 MiB, componentize-js ~9 MiB,
/// componentize-py ~12 MiB): the room an evaluation gets to allocate.
pub const POLICY_MEMORY_GROWTH_BYTES: usize = 16 << 20;
/// Bytes of linear memory no policy may exceed, declared plus growth (the
/// pooling allocator's slot size): a component declaring more is refused.
pub const POLICY_MEMORY_BYTES_MAX: usize = 128 << 20;
/// Core module instances one policy component may create. A Rust policy
/// makes 3; componentize-py 38 (its interpreter is 14 modules linked
/// through adapters); componentize-js 4.
pub const POLICY_CORE_INSTANCES_MAX: u32 = 64;
/// Linear memories one policy component may define (every toolchain above
/// defines one and shares it).
pub const POLICY_MEMORIES_MAX: u32 = 2;
/// Tables one policy component may define (one per core module at most).
pub const POLICY_TABLES_MAX: u32 = 16;
/// Bytes of a policy's memory (and table) kept resident between the
/// instances reusing a pool slot. A Rust guest touches well under 1 MiB per
/// evaluation; with slots reused per policy, this costs at most this much
/// RSS per loaded policy and saves a page fault per touched page per run.
pub const POLICY_MEMORY_KEEP_RESIDENT_BYTES: usize = 1 << 20;
/// Elements of one guest table (Rust guests use a few hundred).
pub const POLICY_TABLE_ELEMENTS_MAX: usize = 20_000;
/// Component instances alive at once across all evaluations (each run
/// holds one per policy of its chain until it ends).
pub const POLICY_POOL_INSTANCES_MAX: u32 = 128;
/// WARN lines about errors of one `failurePolicy: Ignore` policy per
/// window; the rest are counted and the count is logged with the next line.
pub const POLICY_IGNORED_WARNINGS_PER_WINDOW: u32 = 5;
/// The window of `POLICY_IGNORED_WARNINGS_PER_WINDOW`.
pub const POLICY_IGNORED_WARNING_WINDOW_SECS: u64 = 60;
/// Log messages a policy may emit per call; the rest are dropped and counted.
pub const POLICY_LOG_MESSAGES_PER_CALL_MAX: u32 = 32;
/// Bytes of one log message kept; longer ones are truncated.
pub const POLICY_LOG_MESSAGE_BYTES_MAX: usize = 1024;
/// Bytes of a policy module file (a Rust policy is ~50-200 KB).
pub const POLICY_MODULE_BYTES_MAX: usize = 32 << 20;
/// Bytes of one policy's settings as JSON.
pub const POLICY_SETTINGS_BYTES_MAX: usize = 64 << 10;
/// Bytes of any string a guest returns (identity keys and decision strings
/// have tighter bounds above, checked by the chain).
pub const POLICY_ANSWER_STRING_BYTES_MAX: usize = 4096;
/// Bytes of a policy name (it is a metrics label and a log field).
pub const POLICY_NAME_BYTES_MAX: usize = 63;

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
