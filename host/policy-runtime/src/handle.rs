//! The chain the daemon runs right now, swappable while requests are in
//! flight: a run takes its own `Arc` of the chain, so a swap only changes
//! what the *next* run sees, and the old chain is dropped when its last
//! run ends.

use crate::chain::LoadedChain;
use arc_swap::ArcSwap;
use berth_core::chain::{ChainError, ChainHost, ChainOutcome, PolicyChain};
use berth_policy_sdk::Request;
use std::sync::Arc;

pub struct ChainHandle {
    current: ArcSwap<LoadedChain>,
}

impl ChainHandle {
    pub fn new(chain: LoadedChain) -> Self {
        Self {
            current: ArcSwap::from_pointee(chain),
        }
    }

    /// The chain new runs use.
    pub fn current(&self) -> Arc<LoadedChain> {
        self.current.load_full()
    }

    /// Puts `chain` in place for every run that starts from now on and
    /// returns the previous one (runs in flight keep using it).
    pub fn swap(&self, chain: LoadedChain) -> Arc<LoadedChain> {
        self.current.swap(Arc::new(chain))
    }
}

impl std::fmt::Debug for ChainHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainHandle")
            .field("current", &self.current.load())
            .finish()
    }
}

impl PolicyChain for ChainHandle {
    fn run(&self, request: Request, host: &dyn ChainHost) -> Result<ChainOutcome, ChainError> {
        // `load_full` rather than a guard: a run may last up to a deadline
        // per call, longer than arc-swap's guards are meant to be held.
        self.current.load_full().run(request, host)
    }
}
