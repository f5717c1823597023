//! Addresses no pool may hand out, whatever its subnet says: they mean
//! something to every host (this network, loopback, multicast, reserved
//! and broadcast). A pool such as `0.0.0.0/0` would otherwise give a pod
//! 127.0.0.1.

use berth_policy_sdk::addr::to_u128;
use ipnet::IpNet;

/// Each block and what it is, for the error message.
const BLOCKS: [(&str, &str); 7] = [
    ("0.0.0.0/8", "'this network'"),
    ("127.0.0.0/8", "loopback"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved and broadcast"),
    ("::/127", "unspecified and loopback"),
    ("ff00::/8", "multicast"),
    ("::ffff:0:0/96", "IPv4-mapped"),
];

/// The special blocks that overlap `subnet`, as inclusive offset ranges
/// from its network address, with their names.
pub fn within(subnet: &IpNet) -> Vec<((u128, u128), String)> {
    let (lo, hi) = (to_u128(subnet.network()), to_u128(subnet.broadcast()));
    BLOCKS
        .iter()
        .filter_map(|(cidr, what)| {
            let block: IpNet = cidr.parse().ok()?;
            if block.addr().is_ipv4() != subnet.addr().is_ipv4() {
                return None;
            }
            let (b_lo, b_hi) = (to_u128(block.network()), to_u128(block.broadcast()));
            let (start, end) = (lo.max(b_lo), hi.min(b_hi));
            (start <= end).then(|| ((start - lo, end - lo), format!("{block} ({what})")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_parse_and_clip_to_the_subnet() {
        for (cidr, _) in BLOCKS {
            assert!(cidr.parse::<IpNet>().is_ok(), "{cidr}");
        }
        let all: IpNet = "0.0.0.0/0".parse().expect("net");
        assert_eq!(within(&all).len(), 4);
        let lab: IpNet = "10.6.0.0/16".parse().expect("net");
        assert!(within(&lab).is_empty());
        let lo: IpNet = "127.0.0.0/30".parse().expect("net");
        assert_eq!(within(&lo)[0].0, (0, 3));
    }
}
