//! The Berth policy SDK.
//!
//! A policy is a plain Rust type implementing [`Policy`]; its logic is
//! unit-tested natively with [`harness`], and `export_policy!(MyPolicy);`
//! turns the same crate into a WebAssembly component when it is built for
//! `wasm32-wasip2`. See `sdk/README.md`.

// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod types;
pub use types::*;

pub mod addr;
pub mod chain;
pub mod duration;
// Native only: it answers queries itself, where a guest asks the host.
#[cfg(not(target_arch = "wasm32"))]
pub mod harness;
pub mod limits;
pub mod log;
pub mod ordinal;
mod policy;
pub mod query;
pub mod selector;
mod settings;

pub use duration::DurationSecs;
pub use policy::{DynPolicy, Native, Policy};
pub use settings::{parse_settings, NoSettings};

/// Not public API: what `export_policy!` expands to needs these paths.
#[doc(hidden)]
pub mod __private {
    #[cfg(target_arch = "wasm32")]
    pub use crate::bindings;
    #[cfg(target_arch = "wasm32")]
    pub use crate::guest::Exported;
}

// Public only so `__private` can re-export it for `export_policy!`.
#[doc(hidden)]
#[cfg(target_arch = "wasm32")]
pub mod bindings;
#[cfg(target_arch = "wasm32")]
mod guest;

/// Exports `$ty` (a [`Policy`]) as the `berth:policy/policy` interface of
/// a WebAssembly component.
///
/// On `target_arch = "wasm32"` it wires the type to the bindings the SDK
/// generated from `sdk/wit/`; on every other target it expands to nothing,
/// so the policy crate still builds (and tests) natively. Invoke it once,
/// at the crate root of a `cdylib` crate.
#[macro_export]
macro_rules! export_policy {
    ($ty:ty) => {
        // The generated export macro takes a plain identifier, hence the
        // alias for the generic adapter.
        #[cfg(target_arch = "wasm32")]
        type __BerthPolicyExport = $crate::__private::Exported<$ty>;
        #[cfg(target_arch = "wasm32")]
        $crate::__private::bindings::export!(
            __BerthPolicyExport with_types_in $crate::__private::bindings
        );
    };
}
