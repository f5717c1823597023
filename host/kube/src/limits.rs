//! The Kubernetes store's bounds: API retries and timeouts, list pages,
//! watches, the size of what a BerthAddress carries, owner discovery.
//! Units are last in names.

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
/// Longest object name (a DNS-1123 subdomain), Kubernetes' own bound.
pub const NAME_BYTES_MAX: usize = 253;
/// Longest label value, Kubernetes' own bound.
pub const LABEL_VALUE_BYTES_MAX: usize = 63;
/// The API server refuses an Event with a longer `note`.
pub const EVENT_NOTE_BYTES_MAX: usize = 1024;
/// Event names remembered per process before the memory is cleared (the
/// API server's name check still deduplicates after that).
pub const EVENT_NAMES_REMEMBERED_MAX: usize = 4096;
/// How many orphaned addresses a pool message names before "and N more".
pub const ORPHANS_NAMED_MAX: usize = 10;
