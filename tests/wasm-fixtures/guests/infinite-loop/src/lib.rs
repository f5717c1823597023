//! Hostile policy: evaluate never returns. Tests the evaluate deadline.

use berth_policy_sdk::{Decision, NoSettings, Policy, Request};

pub struct InfiniteLoop;

impl Policy for InfiniteLoop {
    type Settings = NoSettings;
    const NAME: &'static str = "hostile-infinite-loop";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn evaluate(_: &NoSettings, _: &Request) -> Decision {
        let mut n = 0u64;
        // black_box keeps the optimiser from reasoning the loop away.
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }
}

berth_policy_sdk::export_policy!(InfiniteLoop);
