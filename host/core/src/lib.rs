//! Berth's allocation core. Pure: no IO, async or clock inside; callers
//! pass time in and drive it through traits.

pub mod admission;
pub mod allocator;
pub mod chain;
pub mod describe;
pub mod dns;
pub mod error;
pub mod free_index;
pub mod limits;
mod offsets;
pub mod placement;
pub mod pod_network;
pub mod pool;
pub mod pool_names;
mod pool_text;
pub mod ranges;
pub mod record;
pub mod reserved;
pub mod route;
mod special;
pub mod store;

pub use allocator::{AddInput, AddPlan, Allocator, Assigned, Holdings, NodeScope, PoolUsage};
pub use error::{AllocError, RestoreError};
pub use pool::{Pool, PoolError, PoolSpec, Route, RouteSpec};
pub use record::{AddressRecord, Mutation, OwnerRef, RecordState};
pub use reserved::{Reserved, ReservedError};
pub use store::{Store, StoreError};
