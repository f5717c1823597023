//! What every ADD answer must satisfy, checked against the state it was
//! planned from: no address of someone else, a sticky identity's held
//! address kept, and only the failures the simulation provokes on purpose.

use super::world::{Container, World};
use berth_core::chain::ChainError;
use berth_core::AllocError;
use std::net::IpAddr;

impl World {
    /// Checks an ADD's answer against the state it was planned from:
    /// nobody else's address is taken; a held sticky address is kept.
    pub(super) fn check_add(&self, c: &Container, result: &[IpAddr]) {
        let key = self.identity_key(c);
        for addr in result {
            if let Some(prior) = self.alloc.record(*addr) {
                assert!(
                    key.is_some() && prior.identity_key() == key.as_deref(),
                    "{addr} handed to {} while held by {:?}",
                    c.pod,
                    prior.pod.name
                );
            }
        }
        let Some(key) = key else { return };
        for held in self.alloc.records_of_identity(&key) {
            if held.interface == "eth0" && c.pools.contains(&held.pool) {
                assert!(
                    result.contains(&held.address),
                    "{key} held {} of pool {} but got {result:?}",
                    held.address,
                    held.pool
                );
            }
        }
    }

    /// ADD failures the simulation provokes on purpose (full pools, the
    /// failing policy); anything else, or exhaustion while an address was
    /// available to the pod, is a bug.
    pub(super) fn check_failure(&self, c: &Container, e: &AllocError) {
        match e {
            AllocError::Chain(ChainError::Failed { .. }) => {}
            AllocError::PoolExhausted {
                family,
                pools,
                retained,
            } => {
                let counted = self
                    .alloc
                    .records()
                    .filter(|r| !r.is_attached() && pools.contains(&r.pool))
                    .count();
                assert_eq!(*retained, counted, "{e}: the retained count is wrong");
                for usage in self.alloc.pool_usage() {
                    if pools.contains(&usage.name) {
                        assert_eq!(usage.used, usage.total, "{e} but {} has room", usage.name);
                    }
                }
                let key = self.identity_key(c).unwrap_or_default();
                for held in self.alloc.records_of_identity(&key) {
                    assert!(
                        held.family() != *family || !pools.contains(&held.pool),
                        "{e} but {key} holds {}",
                        held.address
                    );
                }
            }
            _ => panic!("unexpected ADD failure: {e}"),
        }
    }
}
