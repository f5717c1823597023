//! The guest's `berth:policy/query@0.2.0` imports: is an address free,
//! which addresses of a range are, when was an address released.
//!
//! The answers come from the allocator's view of the request being
//! decided, the `ChainHost` the chain runs with ([`with_host`]). That view
//! borrows the allocator, and a wasmtime store's data must be `'static`,
//! so it is lent through a scoped thread-local for exactly one chain run:
//! a guest runs synchronously on the thread that runs its chain. The
//! string-level answers (bounds, parsing, "unknown means not free") are
//! the SDK's `chain::answer_*`, the same functions the native harness
//! uses. Calls outside a run (load-time `metadata` and
//! `validate-settings`) find nothing free.
//!
//! Like `log`, the imports take their strings as `WasmStr`: the guest's
//! memory is read in place, never copied before the bound is checked.

use crate::sandbox::PolicyState;
use berth_core::chain::{answer_free_in_range, answer_is_free, answer_released_at, ChainHost};
use wasmtime::component::{Linker, WasmStr};
use wasmtime::StoreContextMut;

scoped_tls_hkt::scoped_thread_local!(static CHAIN_HOST: for<'a> &'a dyn ChainHost);

/// Runs `f` (one chain run) with `host` answering the queries of every
/// guest it calls on this thread.
pub(crate) fn with_host<R>(host: &dyn ChainHost, f: impl FnOnce() -> R) -> R {
    CHAIN_HOST.set(host, f)
}

/// `f`'s answer from the current run's view, or `unknown` outside a run.
fn ask<R>(unknown: R, f: impl FnOnce(&dyn ChainHost) -> R) -> R {
    if CHAIN_HOST.is_set() {
        CHAIN_HOST.with(|host| f(host))
    } else {
        unknown
    }
}

type Store<'a> = StoreContextMut<'a, PolicyState>;

pub(crate) fn add_to_linker(linker: &mut Linker<PolicyState>) -> wasmtime::Result<()> {
    let mut query = linker.instance("berth:policy/query@0.2.0")?;
    query.func_wrap(
        "is-free",
        |store: Store<'_>, (pool, address): (WasmStr, WasmStr)| {
            let (pool, address) = (pool.to_str(&store)?, address.to_str(&store)?);
            Ok((ask(false, |host| answer_is_free(host, &pool, &address)),))
        },
    )?;
    query.func_wrap(
        "free-in-range",
        |store: Store<'_>, (pool, first, last, limit): (WasmStr, WasmStr, WasmStr, u32)| {
            let pool = pool.to_str(&store)?;
            let (first, last) = (first.to_str(&store)?, last.to_str(&store)?);
            Ok((ask(Vec::new(), |host| {
                answer_free_in_range(host, &pool, &first, &last, limit)
            }),))
        },
    )?;
    query.func_wrap(
        "released-at",
        |store: Store<'_>, (pool, address): (WasmStr, WasmStr)| {
            let (pool, address) = (pool.to_str(&store)?, address.to_str(&store)?);
            Ok((ask(None, |host| answer_released_at(host, &pool, &address)),))
        },
    )?;
    Ok(())
}
