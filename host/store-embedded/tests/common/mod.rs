//! What the store tests write: plausible records.

use berth_core::record::{AddressRecord, RecordState};
use berth_proto::{Attachment, PodRef};
use std::net::{IpAddr, Ipv4Addr};

pub fn record(i: u32) -> AddressRecord {
    AddressRecord {
        pool: "pool-a".into(),
        address: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)),
        network: "net".into(),
        attachment: Some(Attachment {
            container_id: format!("c{i}"),
            ifname: "eth0".into(),
        }),
        pod: PodRef {
            namespace: "default".into(),
            name: format!("pod-{i}"),
            uid: format!("uid-{i}"),
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
