//! Hostile policy: logs 10,000 messages of 10 KiB each (100 MiB in all),
//! then abstains. Tests that the host bounds what a policy may log.

use berth_policy_sdk::{log, Decision, NoSettings, Policy, Request};

pub const MESSAGES: usize = 10_000;
pub const MESSAGE_BYTES: usize = 10 * 1024;

pub struct NoisyLogger;

impl Policy for NoisyLogger {
    type Settings = NoSettings;
    const NAME: &'static str = "hostile-noisy-logger";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn evaluate(_: &NoSettings, _: &Request) -> Decision {
        let message = "x".repeat(MESSAGE_BYTES);
        for _ in 0..MESSAGES {
            log::info(&message);
        }
        Decision::Abstain
    }
}

berth_policy_sdk::export_policy!(NoisyLogger);
