//! Hostile policy: evaluate tries to make the host wait in real time, the
//! way `settings.how` says, then abstains. A policy runs while the
//! allocator holds its lock, and its CPU budget only counts while guest
//! code executes, so any of these that really waited would stall every
//! ADD and DEL on the node for as long as the guest liked.

use berth_policy_sdk::{Decision, Policy, Request};
use serde::Deserialize;
use std::time::Duration;

/// How long each timed wait asks for.
pub const SLEEP: Duration = Duration::from_secs(10);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub how: How,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum How {
    /// `std::thread::sleep(SLEEP)`: what a careless policy would write
    /// (std turns it into `subscribe-duration` + `block`).
    #[default]
    StdSleep,
    /// `subscribe-duration(SLEEP)`, then `pollable.block`.
    BlockDuration,
    /// `poll` on a `SLEEP` timer and on an instant `SLEEP` from now.
    Poll,
    /// `subscribe-instant` of the last instant there is, then `block`.
    Forever,
    /// `blocking-read` of stdin, then `block` on stdin's pollable.
    Stdin,
    /// `blocking-write-and-flush` to stdout, then `block` on its pollable.
    Stdout,
    /// Sleeps 1 ms at a time until `SLEEP` has passed on the monotonic
    /// clock: a guest that waits for time to move.
    SpinUntil,
}

pub struct Sleeper;

impl Policy for Sleeper {
    type Settings = Settings;
    const NAME: &'static str = "hostile-sleeper";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn evaluate(settings: &Settings, _: &Request) -> Decision {
        wait(settings.how);
        Decision::Abstain
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn wait(how: How) {
    // Natively there is no WASI to call; the crate only builds here so the
    // workspace does.
    if let How::StdSleep = how {
        std::thread::sleep(SLEEP);
    }
}

#[cfg(target_arch = "wasm32")]
fn wait(how: How) {
    use wasi_calls::wasi::cli::{stdin, stdout};
    use wasi_calls::wasi::clocks::monotonic_clock as clock;
    use wasi_calls::wasi::io::poll;

    let nanos = u64::try_from(SLEEP.as_nanos()).unwrap_or(u64::MAX);
    match how {
        How::StdSleep => std::thread::sleep(SLEEP),
        How::BlockDuration => clock::subscribe_duration(nanos).block(),
        How::Poll => {
            let timer = clock::subscribe_duration(nanos);
            let deadline = clock::subscribe_instant(clock::now().saturating_add(nanos));
            let ready = poll::poll(&[&timer, &deadline]);
            std::hint::black_box(ready);
        }
        How::Forever => clock::subscribe_instant(u64::MAX).block(),
        How::Stdin => {
            let input = stdin::get_stdin();
            // The result does not matter, only whether the call returns.
            std::hint::black_box(input.blocking_read(4096).is_ok());
            input.subscribe().block();
        }
        How::Stdout => {
            let output = stdout::get_stdout();
            std::hint::black_box(output.blocking_write_and_flush(&[b'x'; 4096]).is_ok());
            output.subscribe().block();
        }
        How::SpinUntil => {
            let start = std::time::Instant::now();
            while start.elapsed() < SLEEP {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod wasi_calls {
    wit_bindgen::generate!({
        world: "berth:sleeper/sleeper",
        path: "wit",
        // These WASI interfaces have no crate of bindings here to reuse.
        generate_all,
    });
}

berth_policy_sdk::export_policy!(Sleeper);
