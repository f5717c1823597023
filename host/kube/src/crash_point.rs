//! A fault point for crash tests: abort the process right after its Nth
//! successful BerthAddress write, as a SIGKILL between two writes of one
//! batch would. Tests set `BERTH_CRASH_AFTER_ADDRESS_WRITES=N` on a berthd
//! to prove that every crash point of a batch leaves a store the loader
//! accepts. Unset (always, outside tests), it is one relaxed load per write.

use std::sync::atomic::{AtomicU64, Ordering};

pub const CRASH_AFTER_ADDRESS_WRITES_ENV: &str = "BERTH_CRASH_AFTER_ADDRESS_WRITES";

#[derive(Debug, Default)]
pub(crate) struct CrashPoint {
    after_writes: Option<u64>,
    writes: AtomicU64,
}

impl CrashPoint {
    pub fn from_env() -> Self {
        let after_writes = std::env::var(CRASH_AFTER_ADDRESS_WRITES_ENV)
            .ok()
            .and_then(|n| n.parse().ok());
        if let Some(n) = after_writes {
            tracing::warn!(
                n,
                "{CRASH_AFTER_ADDRESS_WRITES_ENV} is set: this process aborts after that many writes"
            );
        }
        CrashPoint {
            after_writes,
            writes: AtomicU64::new(0),
        }
    }

    /// Counts one write that reached the API server.
    pub fn wrote(&self) {
        let Some(n) = self.after_writes else { return };
        if self.writes.fetch_add(1, Ordering::Relaxed) + 1 == n {
            eprintln!("crash point: aborting after BerthAddress write {n}");
            std::process::abort();
        }
    }
}
