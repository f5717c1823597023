//! An address as an offset from its subnet's network address: how pools,
//! free indexes and reservations count addresses without enumerating them.
//! The address-as-a-number conversion underneath is the SDK's
//! (`berth_policy_sdk::addr`), shared with the policies that do range
//! maths of their own.

use berth_policy_sdk::addr::to_u128;
use ipnet::IpNet;
use std::net::IpAddr;

pub(crate) fn host_mask(subnet: &IpNet) -> u128 {
    to_u128(subnet.hostmask())
}

pub(crate) fn offset_in(subnet: &IpNet, addr: IpAddr) -> Option<u128> {
    subnet
        .contains(&addr)
        .then(|| to_u128(addr) - to_u128(subnet.network()))
}
