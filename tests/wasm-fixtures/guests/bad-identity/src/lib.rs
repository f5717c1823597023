//! Hostile policy: identify returns an empty key (evaluate abstains). The
//! host must refuse the identity as an invalid answer.

use berth_policy_sdk::{Decision, Identity, NoSettings, Policy, Request, Retention};

pub struct BadIdentity;

impl Policy for BadIdentity {
    type Settings = NoSettings;
    const NAME: &'static str = "hostile-bad-identity";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn identify(_: &NoSettings, _: &Request) -> Option<Identity> {
        Some(Identity {
            key: String::new(),
            retention: Retention::KeepUntilRetired(0),
        })
    }

    fn evaluate(_: &NoSettings, _: &Request) -> Decision {
        Decision::Abstain
    }
}

berth_policy_sdk::export_policy!(BadIdentity);
