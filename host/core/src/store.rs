//! The persistence seam: the daemon persists every planned batch of
//! mutations through a [`Store`] before applying it, so an answered ADD is
//! durable. The embedded (redb) and Kubernetes stores implement it.

use crate::record::{AddressRecord, Mutation};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("store {path} is locked by another process (is another berthd running?)")]
    Locked { path: String },
    #[error("store {path} is corrupt: {message}")]
    Corrupt { path: String, message: String },
    #[error("store record {key} cannot be decoded: {message}")]
    Decode { key: String, message: String },
    /// Another writer won a race (compare-and-swap stores); retrying helps.
    #[error("store conflict: {message}")]
    Conflict { message: String },
    #[error("store {operation} failed: {message}")]
    Backend {
        operation: &'static str,
        message: String,
    },
}

/// Synchronous on purpose: the allocator is pure and the daemon calls the
/// store from a blocking section while it holds the allocator.
pub trait Store: Send + Sync {
    /// Every record (at daemon start, and on a refresh in Kubernetes mode).
    fn load(&self) -> Result<Vec<AddressRecord>, StoreError>;
    /// The records of the last `load` are now in the caller's allocator. A
    /// store that checks writes against what its node has seen (the
    /// Kubernetes store) takes them as seen only now: a load whose records
    /// were refused must not switch off the guard against writes this node
    /// never applied. Stores without that guard have nothing to do.
    fn loaded(&self) {}
    /// What other writers changed since the caller's records were read
    /// (the last `load`, or the last `changes`), for a store that follows
    /// the changes itself (the Kubernetes store's watch): `Some(changes)`
    /// to apply with `Allocator::absorb` — a refresh that reads nothing
    /// from the backend, whatever its size. `None`: the store does not
    /// follow changes; refresh with `load`. Each change is handed out
    /// once; the store takes them as seen when it hands them out.
    fn changes(&self) -> Result<Option<Vec<Mutation>>, StoreError> {
        Ok(None)
    }
    /// Persists the whole batch or nothing; durable when it returns `Ok`.
    fn apply(&self, mutations: &[Mutation]) -> Result<(), StoreError>;
    /// Whether the store can commit now (CNI STATUS, `/healthz`). Stores
    /// whose failures are per request (the Kubernetes API) say yes.
    fn health(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
