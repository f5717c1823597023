//! The daemon's own bounds: its socket and metrics endpoint, request
//! handling, health snapshots and the ranges its config accepts. The
//! allocation core's bounds are `berth_core::limits`, the policy runtime's
//! `berth_policy_runtime::limits::POLICY_*`, the Kubernetes store's
//! `berth_kube::limits`. Units are last in names.

/// Encoded bytes of one page of an operator answer: well under the
/// protocol's 64 KiB frame, whatever the names in it.
pub const ADMIN_PAGE_BYTES_MAX: usize = 48 * 1024;
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

/// Plans that lose a race to another node (Kubernetes store) are re-planned
/// on fresh records at most this many times, with a jittered pause.
pub const ADD_ATTEMPTS_MAX: u32 = 10;
pub const ADD_RETRY_PAUSE_MS_MAX: u64 = 20;
/// Threads of the async runtime (API calls, timers, slow clients): the
/// allocator's work runs on acceptor and blocking threads, never here, so
/// two keep a node's daemon to its share of a small machine.
pub const ASYNC_WORKER_THREADS: usize = 2;
/// Largest config file accepted.
pub const CONFIG_BYTES_MAX: u64 = 1024 * 1024;
/// Bytes of one request's head on the metrics endpoint (a GET line and
/// headers): hyper's read buffer, whose smallest allowed size this is.
pub const HTTP_REQUEST_BYTES_MAX: usize = 8 * 1024;
/// A metrics connection open longer than this (one request and its
/// answer) is dropped.
pub const HTTP_REQUEST_TIMEOUT_MS: u64 = 5_000;
/// (The operator CLI's timeout and paging bound are the shared client's:
/// `berth_proto::client`.)
/// ADD requests kept (newest, in memory only) so `berthd explain
/// --request` can print the request behind an allocation and
/// `berth-policy run --against` can replay it. Bounded by count and by
/// encoded bytes: a request carries up to 64 labels of 1 KiB each.
pub const KEPT_REQUESTS_MAX: usize = 1024;
pub const KEPT_REQUESTS_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Refused ADDs kept for `berthd explain --refusals`.
/// (This and `KEPT_REQUESTS_MAX` are quoted in `berthd explain --help`,
/// the README and sdk/README.md.)
pub const KEPT_REFUSALS_MAX: usize = 64;

// Defaults of the config's `limits` and `kubernetes` sections (the bounds
// they are checked against are above).
pub const REQUESTS_IN_FLIGHT_DEFAULT: usize = 256;
pub const EXPIRY_INTERVAL_SECS_DEFAULT: u64 = 10;
pub const REQUEST_TIMEOUT_MS_DEFAULT: u64 = 10_000;
pub const CONFIG_POLL_INTERVAL_SECS_DEFAULT: u64 = 5;
pub const GC_INTERVAL_SECS_DEFAULT: u64 = 30;
pub const GC_GRACE_SECS_DEFAULT: u64 = 60;
pub const GC_TERMINATING_GRACE_SECS_DEFAULT: u64 = 300;
pub const POOL_SYNC_INTERVAL_SECS_DEFAULT: u64 = 10;

// `berthd fetch-policy` (the init container fetching URL policies).
/// Largest module fetched.
pub const FETCH_MODULE_BYTES_MAX: u64 = 64 << 20;
/// 1 + 2 + 4 + 8 s of pauses between five attempts: rides out a policy
/// server or DNS that is not ready yet while a node boots.
pub const FETCH_ATTEMPTS_MAX: u32 = 5;
pub const FETCH_FIRST_BACKOFF_SECS: u64 = 1;
pub const FETCH_CONNECT_TIMEOUT_SECS: u64 = 10;
/// Whole-request bound of one attempt (connect, headers and body).
pub const FETCH_ATTEMPT_TIMEOUT_SECS: u64 = 300;
