//! Hostile policy: identify never returns (evaluate abstains). Tests the
//! deadline of the identify phase.

use berth_policy_sdk::{Decision, Identity, NoSettings, Policy, Request};

pub struct SlowIdentify;

impl Policy for SlowIdentify {
    type Settings = NoSettings;
    const NAME: &'static str = "hostile-slow-identify";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn identify(_: &NoSettings, _: &Request) -> Option<Identity> {
        let mut n = 0u64;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }

    fn evaluate(_: &NoSettings, _: &Request) -> Decision {
        Decision::Abstain
    }
}

berth_policy_sdk::export_policy!(SlowIdentify);
