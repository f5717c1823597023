//! WASI that never waits: a guest cannot make the host sleep.
//!
//! A policy runs while the allocator holds its lock, and its CPU budget
//! only counts while guest code executes: a guest blocked in a host call
//! is never interrupted. wasmtime-wasi's `wasi:clocks/monotonic-clock`
//! timers sleep in real time (`std::thread::sleep` is `subscribe-duration`
//! then `block`), so one `sleep(10 s)`, or a timer at the end of time,
//! would stall every ADD and DEL on the node for as long as the guest
//! liked.
//!
//! The imports Rust std needs stay linkable, so honest guests load; what
//! they do changes, shadowing wasmtime-wasi's versions in the linker:
//!
//! * `subscribe-duration` and `subscribe-instant` return a timer that has
//!   already gone off. The guest's monotonic clock is frozen (see
//!   `sandbox.rs`), so a timer that waited would either be meaningless or
//!   never fire; firing at once is the only answer that does not wait. A
//!   guest that loops until its clock moves spins into its CPU budget.
//! * `poll` and `pollable.block` look at their pollables once; if none is
//!   ready they fail the call (a trap) instead of waiting. Nothing a policy
//!   can reach today is ever not ready (timers above; stdin is closed,
//!   stdout and stderr are sinks), so this is the backstop that keeps the
//!   rule true if the allow-list ever admits something that can block.
//!
//! The stream calls that wait (`blocking-read`, `blocking-write-and-flush`,
//! ...) only wait for their own stream; the allow-list leaves a guest only
//! the three stdio streams, which never wait (pinned in `sandbox.rs`).

use crate::sandbox::PolicyState;
use std::future::Future;
use std::pin::pin;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::clocks::{WasiClocksCtxView, WasiClocksView};
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock;
use wasmtime_wasi::p2::bindings::io::poll as async_poll;
use wasmtime_wasi::p2::bindings::sync::io::poll;
use wasmtime_wasi::p2::{subscribe, DynPollable, Pollable};
use wasmtime_wasi::runtime::{poll_noop, with_ambient_tokio_runtime};
use wasmtime_wasi::WasiView;

/// Replaces the timers and the waiting calls of `wasi:io/poll` in a linker
/// that already has wasmtime-wasi's p2 interfaces.
pub(crate) fn add_to_linker(linker: &mut Linker<PolicyState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let shadowed = monotonic_clock::add_to_linker::<PolicyState, ClockData>(linker, |state| {
        FiringClock(state.clocks())
    })
    .and_then(|()| {
        poll::add_to_linker::<PolicyState, PollData>(linker, |state| NoWaitPoll(state.ctx().table))
    });
    // Anything linked later must not replace these by accident.
    linker.allow_shadowing(false);
    shadowed
}

struct ClockData;

impl HasData for ClockData {
    type Data<'a> = FiringClock<'a>;
}

/// The guest's monotonic clock, whose timers have always gone off.
struct FiringClock<'a>(WasiClocksCtxView<'a>);

impl monotonic_clock::Host for FiringClock<'_> {
    fn now(&mut self) -> wasmtime::Result<monotonic_clock::Instant> {
        // The store's clock (frozen in `sandbox.rs`) stays the one answer.
        monotonic_clock::Host::now(&mut self.0)
    }

    fn resolution(&mut self) -> wasmtime::Result<monotonic_clock::Duration> {
        monotonic_clock::Host::resolution(&mut self.0)
    }

    fn subscribe_instant(
        &mut self,
        _when: monotonic_clock::Instant,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        elapsed(self.0.table)
    }

    fn subscribe_duration(
        &mut self,
        _duration: monotonic_clock::Duration,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        elapsed(self.0.table)
    }
}

/// A timer that has already gone off.
struct Elapsed;

#[wasmtime_wasi::async_trait]
impl Pollable for Elapsed {
    async fn ready(&mut self) {}
}

fn elapsed(table: &mut ResourceTable) -> wasmtime::Result<Resource<DynPollable>> {
    let timer = table.push(Elapsed)?;
    subscribe(table, timer)
}

struct PollData;

impl HasData for PollData {
    type Data<'a> = NoWaitPoll<'a>;
}

/// `wasi:io/poll` that answers from what is ready now. The work is
/// wasmtime-wasi's own (async) implementation, polled exactly once.
struct NoWaitPoll<'a>(&'a mut ResourceTable);

impl poll::Host for NoWaitPoll<'_> {
    fn poll(&mut self, pollables: Vec<Resource<DynPollable>>) -> wasmtime::Result<Vec<u32>> {
        now_or_fail("poll", async_poll::Host::poll(self.0, pollables))
    }
}

impl poll::HostPollable for NoWaitPoll<'_> {
    fn ready(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<bool> {
        // Already non-blocking upstream; a pollable that needs a second
        // look is, truthfully, not ready.
        let ready = pin!(async_poll::HostPollable::ready(self.0, pollable));
        with_ambient_tokio_runtime(|| poll_noop(ready)).unwrap_or(Ok(false))
    }

    fn block(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        now_or_fail(
            "pollable.block",
            async_poll::HostPollable::block(self.0, pollable),
        )
    }

    fn drop(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        async_poll::HostPollable::drop(self.0, pollable)
    }
}

/// Polls `future` once. Inside wasmtime-wasi's Tokio context, because a
/// pollable may be a Tokio timer or socket, which panic outside one.
fn now_or_fail<R>(
    call: &str,
    future: impl Future<Output = wasmtime::Result<R>>,
) -> wasmtime::Result<R> {
    let future = pin!(future);
    with_ambient_tokio_runtime(|| poll_noop(future)).unwrap_or_else(|| {
        Err(wasmtime::format_err!(
            "wasi:io/poll {call} would wait for a pollable that is not ready; \
             a policy may not wait"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Something that can block: wasmtime-wasi's own timers and sockets
    /// are pollables like this until their moment comes.
    struct Never;

    #[wasmtime_wasi::async_trait]
    impl Pollable for Never {
        async fn ready(&mut self) {
            std::future::pending::<()>().await;
        }
    }

    fn pollable(table: &mut ResourceTable, p: impl Pollable) -> Resource<DynPollable> {
        let resource = table.push(p).expect("table has room");
        subscribe(table, resource).expect("subscribes")
    }

    #[test]
    fn a_pollable_that_is_not_ready_fails_instead_of_waiting() {
        let mut table = ResourceTable::new();
        let slow = pollable(&mut table, Never);
        let also_slow = Resource::new_borrow(slow.rep());
        let mut poll = NoWaitPoll(&mut table);
        let error = poll::Host::poll(&mut poll, vec![slow]).expect_err("must not wait");
        assert!(error.to_string().contains("may not wait"), "{error}");
        let error = poll::HostPollable::block(&mut poll, also_slow).expect_err("must not wait");
        assert!(error.to_string().contains("pollable.block"), "{error}");
    }

    #[test]
    fn ready_pollables_are_reported_and_slow_ones_left_out() {
        let mut table = ResourceTable::new();
        let slow = pollable(&mut table, Never);
        let timer = elapsed(&mut table).expect("timer");
        let timer_again = Resource::new_borrow(timer.rep());
        let mut poll = NoWaitPoll(&mut table);
        assert_eq!(
            poll::Host::poll(&mut poll, vec![slow, timer]).ok(),
            Some(vec![1])
        );
        assert!(poll::HostPollable::block(&mut poll, timer_again).is_ok());
    }
}
