//! Hostile policy: picks 203.0.113.77 in pool "nowhere", which is never a
//! legal candidate. The host must refuse the answer.

use berth_policy_sdk::{Candidate, Decision, NoSettings, Policy, Request};

pub struct IllegalPick;

impl Policy for IllegalPick {
    type Settings = NoSettings;
    const NAME: &'static str = "hostile-illegal-pick";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn evaluate(_: &NoSettings, _: &Request) -> Decision {
        Decision::Pick(Candidate {
            pool: "nowhere".into(),
            address: "203.0.113.77".into(),
        })
    }
}

berth_policy_sdk::export_policy!(IllegalPick);
