//! What the store tests and the store bench write: plausible records.

use berth_core::record::{AddressRecord, RecordState};
use berth_proto::{Attachment, PodRef};
use std::net::{IpAddr, Ipv4Addr};

/// Record `i` of pool `pool-a`, with short container and pod ids.
pub fn record(i: u32) -> AddressRecord {
    record_with("pool-a", i, format!("c{i}"), format!("uid-{i}"))
}

/// Record `i` of `pool` (address 10.0.0.0 + `i`) for the given container and pod uid.
pub fn record_with(pool: &str, i: u32, container_id: String, uid: String) -> AddressRecord {
    AddressRecord {
        pool: pool.into(),
        address: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)),
        network: "net".into(),
        attachment: Some(Attachment {
            container_id,
            ifname: "eth0".into(),
        }),
        pod: PodRef {
            namespace: "default".into(),
            name: format!("pod-{i}"),
            uid,
        },
        interface: "eth0".into(),
        identity: None,
        state: RecordState::Attached,
        node: "node-a".into(),
        owner: None,
        stateful_set: None,
        created_at_unix_secs: 1_700_000_000,
        trace: Vec::new(),
    }
}
