//! The allocator's view of reserved addresses (`crate::reserved`): they
//! are left out of every pool's free index (`configure`), so no search
//! offers them; a record holding one (reserved after it was handed out)
//! is counted per pool beside the free index until it is released.

use super::Allocator;
use crate::reserved::Reserved;
use std::net::IpAddr;

impl Allocator {
    pub fn reserved(&self) -> &Reserved {
        &self.reserved
    }

    /// Whether `address` is reserved (not handed out unless already held).
    pub fn is_reserved(&self, address: IpAddr) -> bool {
        self.reserved.contains(address)
    }

    /// The pool `pool` when it exists and `address` is assignable there
    /// but reserved: such a record is held outside the free index.
    pub(super) fn reserved_in(&self, pool: &str, address: IpAddr) -> Option<usize> {
        self.pool_index
            .get(pool)
            .copied()
            .filter(|i| self.pools[*i].is_assignable(address) && self.reserved.contains(address))
    }
}
