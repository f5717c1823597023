//! The Berth policy SDK.

mod types;
pub use types::*;
