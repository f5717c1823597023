//! Host bindings for `berth:policy@0.2.0`, generated once from the SDK's
//! WIT file (the single source of truth shared with the guests).
//!
//! Everything else in the crate talks in `berth_policy_sdk` types; the
//! translation lives in `convert.rs` only.

wasmtime::component::bindgen!({
    path: "../../sdk/wit",
    world: "policy-world",
    // Requests are lowered straight from borrowed strings and slices:
    // an owned copy of every string per call was most of the host's
    // allocations in the chain bench.
    ownership: Borrowing { duplicate_if_necessary: true },
});

pub use berth::policy::types as wit;
pub use exports::berth::policy::policy::PolicyMetadata as WitMetadata;
