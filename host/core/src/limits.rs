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
/// Encoded bytes of one page of an operator answer: well under the
/// protocol's 64 KiB frame, whatever the names in it.
pub const ADMIN_PAGE_BYTES_MAX: usize = 48 * 1024;
/// ADD requests the daemon keeps (newest first, in memory only) so
/// `berthd explain --request` can print the request behind an allocation
/// and `berth-policy run --against` can replay it. Bounded by count and by
/// encoded bytes: a request carries up to 64 labels of 1 KiB each.
pub const KEPT_REQUESTS_MAX: usize = 1024;
pub const KEPT_REQUESTS_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Refused ADDs the daemon keeps for `berthd explain --refusals`.
/// (This and `KEPT_REQUESTS_MAX` are quoted in `berthd explain --help`,
/// the README and sdk/README.md.)
pub const KEPT_REFUSALS_MAX: usize = 64;
/// Open connections on the daemon's socket (idle or not); more are closed
/// at once. Requests in flight are bounded separately (config).
pub const SOCKET_CONNECTIONS_MAX: usize = 4096;
/// Open connections on the metrics endpoint; more are closed at once.
pub const METRICS_CONNECTIONS_MAX: usize = 64;
/// Pause of an accept loop after an accept error (out of descriptors).
pub const ACCEPT_BACKOFF_MS: u64 = 100;
/// Threads waiting in `accept` on the daemon's socket. Each serves the
/// request it accepted itself (no hand-off between threads on an ADD's
/// path) while another still waits in `accept`; the last one waiting
/// hands connections to the async path instead, so accepting never stalls.
pub const SOCKET_ACCEPTOR_THREADS: usize = 4;
/// How long an acceptor thread waits for the request of a connection it
/// accepted before handing the connection to the async path: the plugin
/// writes at once, so only a slow or idle client takes longer.
pub const SOCKET_PROMPT_READ_MS: u64 = 20;
/// Attachments in one CNI GC's valid list.
pub const GC_ATTACHMENTS_MAX: usize = 65_536;

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

// ---- Kubernetes store (berth-kube) ----

/// Attempts of one API request on transient errors (5xx, 429, timeouts,
/// connection errors) before the store gives up with a backend error.
pub const KUBE_REQUEST_ATTEMPTS_MAX: u32 = 5;
/// First backoff between attempts; doubled each retry, each drawn between
/// half and all of it (jitter) so nodes that failed together do not retry
/// together.
pub const KUBE_RETRY_BACKOFF_BASE_MS: u64 = 20;
/// Cap of one backoff. With the values above the four waits of five
/// attempts add up to at most 300 ms, well inside a CNI ADD timeout.
pub const KUBE_RETRY_BACKOFF_MAX_MS: u64 = 800;
/// Deadline of one API request; a slower answer counts as transient.
pub const KUBE_REQUEST_TIMEOUT_MS: u64 = 10_000;
/// Objects per page when listing records (kube's `limit`/`continue`).
pub const KUBE_LIST_PAGE_OBJECTS: u32 = 500;
/// How long one BerthAddress watch request lasts before it is resumed from
/// its last version (under the API server's own 30-minute cap, and short
/// enough that a half-open connection is noticed).
pub const KUBE_WATCH_TIMEOUT_SECS: u32 = 290;
/// Bytes of a record's trace as JSON in its BerthAddress object; longer
/// traces keep their first steps (objects stay small; etcd caps 1.5 MiB).
pub const KUBE_TRACE_BYTES_MAX: usize = 32 << 10;
/// Seconds before the daemon asks discovery again about a pod owner kind
/// (e.g. OpenKruise's StatefulSet) the API server did not serve: a CRD
/// installed later is picked up without a restart.
pub const OWNER_DISCOVERY_RETRY_SECS: u64 = 60;
/// Entries of an owner's `spec.reserveOrdinals` (OpenKruise) the daemon
/// reads; an owner with more is not interpreted, so none of its ordinals
/// is retired by scale.
pub const OWNER_RESERVED_ORDINALS_MAX: usize = 1024;

// ---- Embedded store (berth-store-embedded) ----

/// Bytes of redb's page cache. Reads happen once, at start (the allocator
/// keeps the state in memory), so the cache mainly serves writes; redb's
/// default of 1 GiB would let RSS grow with the store file.
pub const STORE_CACHE_BYTES_MAX: usize = 8 << 20;

// ---------------------------------------------------------------------------
// Daemon (berthd): request handling, health, config bounds.
// ---------------------------------------------------------------------------

/// Releases (DEL, GC) that meet a stale view re-read it at most this often.
pub const RELEASE_ATTEMPTS_MAX: u32 = 3;
/// How long an answer may take to write once the request's deadline passed.
pub const ANSWER_GRACE_MS: u64 = 1_000;
/// How often the metrics/health snapshot is taken.
pub const SNAPSHOT_INTERVAL_MS: u64 = 1_000;
/// `/healthz` fails when no snapshot finished for this long (stuck daemon).
pub const SNAPSHOT_STALE_SECS: u64 = 60;
/// Bounds of `limits.requestTimeoutMs`: below, a request cannot even reach
/// a policy; above, the plugin (10 s by default, 600 s at most) gave up.
pub const REQUEST_TIMEOUT_MS_MIN: u64 = 100;
pub const REQUEST_TIMEOUT_MS_MAX: u64 = 600_000;
/// Bound of `limits.requestsInFlightMax`: more slots only queue on the
/// allocator lock.
pub const REQUESTS_IN_FLIGHT_MAX: usize = 4096;
/// Size of the embedded store's health probe write: about a 64-record
/// batch, so a probe that fits says a real write would.
pub const STORE_PROBE_BYTES: usize = 64 * 1024;
