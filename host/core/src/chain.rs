//! The semantics of a policy chain live in the SDK
//! (`berth_policy_sdk::chain`), so a policy's native unit tests apply the
//! very rules the daemon applies; the allocator adds what only a host has:
//! a loaded chain to run.

pub use berth_policy_sdk::chain::*;

use berth_policy_sdk::Request;

/// A loaded chain the allocator can run. The Wasm runtime implements it
/// (fresh instances per run); tests implement it with native policies.
pub trait PolicyChain: Send + Sync {
    fn run(&self, request: Request, host: &dyn ChainHost) -> Result<ChainOutcome, ChainError>;
}
