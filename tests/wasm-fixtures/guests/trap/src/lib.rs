//! Hostile policy: evaluate panics, which on wasm32 is a trap.

use berth_policy_sdk::{Decision, NoSettings, Policy, Request};

pub struct Trap;

impl Policy for Trap {
    type Settings = NoSettings;
    const NAME: &'static str = "hostile-trap";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    #[allow(clippy::panic)]
    fn evaluate(_: &NoSettings, request: &Request) -> Decision {
        panic!("hostile-trap panics on purpose for {}", request.pod_name)
    }
}

berth_policy_sdk::export_policy!(Trap);
