//! Hostile policy: evaluate allocates 1 MiB after 1 MiB, touching every
//! page, until the host's memory cap stops it. Tests the memory limit.

use berth_policy_sdk::{Decision, NoSettings, Policy, Request};

pub struct MemoryBomb;

impl Policy for MemoryBomb {
    type Settings = NoSettings;
    const NAME: &'static str = "hostile-memory-bomb";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn evaluate(_: &NoSettings, _: &Request) -> Decision {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![0xA5; 1 << 20]);
            std::hint::black_box(&hoard);
        }
    }
}

berth_policy_sdk::export_policy!(MemoryBomb);
