//! What a policy may ask the host while it decides (contract 0.2): whether
//! an address is free, which addresses of a range are, and when an address
//! was last released. A policy that must keep a range for some pods, or
//! let an address cool down before it is reused, cannot do it from the
//! bounded sample of candidates alone.
//!
//! Answers come from the allocator's view for the current request: only
//! the request's candidate pools are known (any other pool has nothing
//! free), "free" means "could be picked for a new binding now" (assignable,
//! not reserved, held by nobody, pool enabled), and a range answer holds at
//! most [`crate::limits::QUERY_RANGE_RESULTS_MAX`] addresses. A pick of an
//! address a query called free is legal while no earlier policy narrowed
//! the candidates.
//!
//! On wasm32 each call crosses into the host. Natively the answers come from
//! the [`crate::harness::FakeView`] of the harness call in progress, through
//! the same functions the host answers with (`chain::answer_*`); outside a
//! harness call nothing is free.

/// Whether `address` of `pool` could be picked for a new binding now.
pub fn is_free(pool: &str, address: &str) -> bool {
    imp::is_free(pool, address)
}

/// Free addresses of `pool` from `first` to `last` inclusive, ascending,
/// at most `limit` (and never more than the host's cap).
pub fn free_in_range(pool: &str, first: &str, last: &str, limit: u32) -> Vec<String> {
    imp::free_in_range(pool, first, last, limit)
}

/// When a pod last let go of `address` of `pool` (seconds since the Unix
/// epoch, comparable with `Request::now_unix_secs`): for an address
/// retained for its identity, its pod's DEL; for a free address, when the
/// daemon freed it, if it still remembers (bounded, not across restarts).
/// `None`: not known to have been released.
pub fn released_at(pool: &str, address: &str) -> Option<u64> {
    imp::released_at(pool, address)
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use crate::bindings::berth::policy::query;

    pub fn is_free(pool: &str, address: &str) -> bool {
        query::is_free(pool, address)
    }

    pub fn free_in_range(pool: &str, first: &str, last: &str, limit: u32) -> Vec<String> {
        query::free_in_range(pool, first, last, limit)
    }

    pub fn released_at(pool: &str, address: &str) -> Option<u64> {
        query::released_at(pool, address)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use crate::chain::{answer_free_in_range, answer_is_free, answer_released_at, ChainHost};
    use std::cell::RefCell;
    use std::rc::Rc;

    thread_local! {
        static VIEW: RefCell<Option<Rc<dyn ChainHost>>> = const { RefCell::new(None) };
    }

    /// Runs `f` with `view` answering this thread's queries, then restores
    /// whatever answered before (also when `f` panics).
    pub(crate) fn with_view<R>(view: Rc<dyn ChainHost>, f: impl FnOnce() -> R) -> R {
        struct Restore(Option<Rc<dyn ChainHost>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                VIEW.with(|v| *v.borrow_mut() = previous);
            }
        }
        let previous = VIEW.with(|v| v.borrow_mut().replace(view));
        let _restore = Restore(previous);
        f()
    }

    fn current() -> Option<Rc<dyn ChainHost>> {
        VIEW.with(|v| v.borrow().clone())
    }

    pub fn is_free(pool: &str, address: &str) -> bool {
        current().is_some_and(|view| answer_is_free(&*view, pool, address))
    }

    pub fn free_in_range(pool: &str, first: &str, last: &str, limit: u32) -> Vec<String> {
        current()
            .map(|view| answer_free_in_range(&*view, pool, first, last, limit))
            .unwrap_or_default()
    }

    pub fn released_at(pool: &str, address: &str) -> Option<u64> {
        current().and_then(|view| answer_released_at(&*view, pool, address))
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use imp::with_view;
