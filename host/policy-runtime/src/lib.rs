//! Runs Berth's allocation policies: WebAssembly components implementing
//! `berth:policy@0.2.0` (or `@0.1.0`, unchanged: `contract.rs`), sandboxed and bounded, driven through the chain
//! semantics of `berth_core::chain`.
//!
//! ```no_run
//! use berth_policy_runtime::{ChainHandle, PolicyConfig, Runtime, RuntimeLimits};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = Runtime::new(RuntimeLimits::default())?;
//! let chain = runtime.load_chain(&[PolicyConfig::builtin("sticky", "sticky-statefulset")])?;
//! let handle = ChainHandle::new(chain);
//! // handle implements berth_core::chain::PolicyChain; on reload:
//! handle.swap(runtime.load_chain(&[])?);
//! println!("{:?}", runtime.metrics());
//! # Ok(()) }
//! ```

mod admit;
mod artefact;
mod bindings;
mod budget;
mod chain;
mod config;
mod contract;
mod convert;
mod engine;
mod error;
mod handle;
mod ignored;
mod imports;
mod instance;
pub mod limits;
mod link;
mod load;
mod log;
mod log_budget;
mod metrics;
mod needs;
mod no_wait;
mod policy;
mod query;
mod sandbox;
mod scan;
mod source;
mod stderr;
mod step;

pub use admit::ModuleReport;
pub use chain::LoadedChain;
pub use config::{PolicyConfig, PolicySource};
pub use engine::Runtime;
pub use error::{LoadError, RuntimeError};
pub use handle::ChainHandle;
pub use limits::RuntimeLimits;
pub use load::CONTRACT_COMPATIBLE;
pub use log_budget::LOG_TARGET;
pub use metrics::{
    LatencySnapshot, MetricsSnapshot, PolicyMetrics, ERROR_KINDS, LATENCY_BUCKETS_MICROS,
};
pub use policy::LoadedPolicy;
