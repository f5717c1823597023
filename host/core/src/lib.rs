//! Berth's allocation core. Pure: no IO, async or clock inside; callers
//! pass time in and drive it through traits.

pub mod chain;
pub mod limits;
