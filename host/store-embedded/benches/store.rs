//! Cost of one durable `apply` of one Put (one redb write transaction with
//! immediate durability): what every ADD pays for its store write.
//! `cargo bench -p berth-store-embedded`.

use berth_core::record::{AddressRecord, Mutation, RecordState};
use berth_core::store::Store;
use berth_proto::{Attachment, PodRef};
use berth_store_embedded::EmbeddedStore;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

const WARMUP: u32 = 50;
const ROUNDS: u32 = 1000;

fn record(i: u32) -> AddressRecord {
    AddressRecord {
        pool: "bench".into(),
        address: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)),
        network: "net".into(),
        attachment: Some(Attachment {
            container_id: format!("{i:064x}"),
            ifname: "eth0".into(),
        }),
        pod: PodRef {
            namespace: "default".into(),
            name: format!("pod-{i}"),
            uid: format!("00000000-0000-0000-0000-{i:012}"),
        },
        interface: "eth0".into(),
        identity: None,
        state: RecordState::Attached,
        created_at_unix_secs: 1_700_000_000,
        trace: Vec::new(),
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = EmbeddedStore::open(&dir.path().join("bench.redb")).expect("open");
    let mut samples = Vec::with_capacity(ROUNDS as usize);
    for i in 0..WARMUP + ROUNDS {
        let batch = [Mutation::Put(record(i))];
        let start = Instant::now();
        store.apply(&batch).expect("apply");
        if i >= WARMUP {
            samples.push(start.elapsed().as_nanos() as f64 / 1000.0);
        }
    }
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    println!(
        "store apply (1 Put, immediate durability) in {}: median {:.1} us, p99 {:.1} us, n={}",
        dir.path().display(),
        at(0.5),
        at(0.99),
        samples.len()
    );
}
