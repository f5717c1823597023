//! What an accept loop does when accept fails: out of descriptors
//! (EMFILE/ENFILE) or memory, retrying at once would spin a core and log
//! without end. It pauses instead, and says so once per episode.

use crate::limits::ACCEPT_BACKOFF_MS;
use std::time::Duration;

#[derive(Debug, Default)]
pub struct AcceptBackoff {
    backing_off: bool,
}

impl AcceptBackoff {
    /// An accept succeeded: the episode, if any, is over.
    pub fn accepted(&mut self) {
        self.backing_off = false;
    }

    /// An accept of `listener` failed: log the first failure of an
    /// episode, then pause.
    pub async fn failed(&mut self, listener: &str, error: &std::io::Error) {
        if !self.backing_off {
            tracing::warn!(%error, listener, "accept failed; backing off");
            self.backing_off = true;
        }
        tokio::time::sleep(Duration::from_millis(ACCEPT_BACKOFF_MS)).await;
    }

    /// As [`Self::failed`], for a thread blocked in `accept`.
    pub fn failed_blocking(&mut self, listener: &str, error: &std::io::Error) {
        if !self.backing_off {
            tracing::warn!(%error, listener, "accept failed; backing off");
            self.backing_off = true;
        }
        std::thread::sleep(Duration::from_millis(ACCEPT_BACKOFF_MS));
    }
}
