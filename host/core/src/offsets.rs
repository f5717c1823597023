//! An address as an offset from its subnet's network address: how pools,
//! free indexes and reservations count addresses without enumerating them.

use ipnet::IpNet;
use std::net::IpAddr;

pub(crate) fn addr_bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

pub(crate) fn host_mask(subnet: &IpNet) -> u128 {
    addr_bits(subnet.hostmask())
}

pub(crate) fn offset_in(subnet: &IpNet, addr: IpAddr) -> Option<u128> {
    subnet
        .contains(&addr)
        .then(|| addr_bits(addr) - addr_bits(subnet.network()))
}
