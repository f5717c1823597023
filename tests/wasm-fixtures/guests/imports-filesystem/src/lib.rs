//! Hostile policy: evaluate reads a file with `std::fs`, so the component
//! imports `wasi:filesystem`. The host allows the import (componentize-py
//! needs it) but preopens no directory, so the read must fail.

use berth_policy_sdk::{Decision, NoSettings, Policy, Request};

pub struct ImportsFilesystem;

impl Policy for ImportsFilesystem {
    type Settings = NoSettings;
    const NAME: &'static str = "hostile-imports-filesystem";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn evaluate(_: &NoSettings, _: &Request) -> Decision {
        match std::fs::read_to_string("/etc/hostname") {
            Ok(text) => Decision::Reject(format!("read the host's file: {text}")),
            Err(err) => Decision::Reject(format!("could not read the host's file: {err}")),
        }
    }
}

berth_policy_sdk::export_policy!(ImportsFilesystem);
