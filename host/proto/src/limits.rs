//! The bounds of the operator client (`client.rs`). The frame size both
//! ends enforce is the protocol's own, `crate::MAX_FRAME_BYTES`. Units are
//! last in names.

/// How long an operator command waits for the daemon.
pub const ADMIN_TIMEOUT_SECS: u64 = 30;
/// Bound on the paging loop: ~100 records a page, so ten million records.
pub const ALLOCATION_PAGES_MAX: usize = 100_000;
