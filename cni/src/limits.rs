//! Every limit of the `berth` plugin, in one place (the plugin depends on
//! `berth-proto` only, never on the daemon's crates, so it has its own
//! home; the socket frame size is the protocol's, in `berth_proto`).

/// Stdin larger than this is refused unread: real configs with a
/// prevResult are a few KiB, and the input is untrusted.
pub const MAX_STDIN_BYTES: u64 = 1024 * 1024;

/// How long to wait for berthd when `ipam.timeoutMs` is not set. ADDs take
/// milliseconds; a daemon that needs seconds is stuck, and the runtime
/// retries on the "try again later" error this turns into.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
pub const MAX_TIMEOUT_MS: u64 = 600_000;

/// `sun_path` holds 108 bytes including the terminating NUL.
pub const MAX_SOCKET_PATH_BYTES: usize = 107;

/// Pause between connects while the daemon's listen backlog is full.
pub const CONNECT_RETRY_PAUSE_MS: u64 = 2;

/// Labels one ADD may carry, and bytes of one key or value: what the
/// daemon passes to policies (`REQUEST_PAIRS_MAX`, `REQUEST_PAIR_BYTES_MAX`).
pub const LABELS_MAX: usize = 64;
pub const LABEL_BYTES_MAX: usize = 1024;
