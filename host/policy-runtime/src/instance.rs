//! One live instance of a policy: a fresh `Store` and component instance
//! made from the policy's `InstancePre`, armed with a deadline, fuel and a
//! log budget before every call.
//!
//! An instance serves one chain run (or one load check) and is then
//! dropped, returning its slot to the pool: no state survives between
//! requests. Once a call fails, the instance is never entered again
//! (wasmtime forbids re-entering a trapped instance anyway).

use crate::bindings::wit;
use crate::budget::CallBudget;
use crate::contract::{PolicyExports, PolicyPre};
use crate::convert;
use crate::engine::Inner;
use crate::error::{classify, internal, CallFailure};
use crate::log_budget::LogBudget;
use crate::needs::PolicyNeeds;
use crate::sandbox::{Limiter, PolicyState};
use berth_core::chain::{PolicyError, PolicyErrorKind};
use berth_policy_sdk::{Decision, Identity, Metadata, Request};
use std::sync::Arc;
use wasmtime::Store;

pub(crate) struct PolicyInstance {
    store: Store<PolicyState>,
    world: PolicyExports,
    fuel: Option<u64>,
    /// The error that ended this instance, if one did.
    broken: Option<PolicyError>,
    /// Log messages dropped over the instance's calls (for the metrics).
    pub log_dropped: u64,
}

impl PolicyInstance {
    /// Instantiates `pre` in a new store. `seed` and `now_unix_secs` fix
    /// the guest's randomness and wall clock.
    pub fn new(
        runtime: &Inner,
        pre: &PolicyPre,
        needs: PolicyNeeds,
        policy: &Arc<str>,
        seed: u64,
        now_unix_secs: u64,
    ) -> Result<Self, PolicyError> {
        let limits = &runtime.limits;
        let state = PolicyState::new(
            Limiter::new(needs, limits.table_elements),
            LogBudget::new(
                policy.clone(),
                limits.log_messages_per_call,
                limits.log_message_bytes,
            ),
            CallBudget::new(limits.call_cpu_max, limits.call_wall_max),
            seed,
            now_unix_secs,
        );
        let mut store = Store::new(&runtime.engine, state);
        store.limiter(|state| &mut state.limiter);
        // Each tick re-checks the running call's budget instead of trapping.
        store.epoch_deadline_callback(|mut ctx| Ok(ctx.data_mut().budget.on_tick()));
        arm(&mut store, limits.fuel_per_call).map_err(|e| internal("arming the store", &e))?;
        // Start functions run here, so instantiation gets a budget too.
        let world = pre.instantiate(&mut store).map_err(|error| {
            let memory_refused = store.data().limiter.memory_refused;
            if memory_refused || error.downcast_ref::<wasmtime::Trap>().is_some() {
                classify(CallFailure {
                    error,
                    memory_refused,
                    exhausted: store.data().budget.exhausted,
                    what: "instantiate",
                })
            } else {
                internal("instantiate", &error)
            }
        })?;
        Ok(Self {
            store,
            world,
            fuel: limits.fuel_per_call,
            broken: None,
            log_dropped: 0,
        })
    }

    /// The error that ended this instance, if any.
    pub fn broken(&self) -> Option<&PolicyError> {
        self.broken.as_ref()
    }

    pub fn metadata(&mut self) -> Result<Metadata, PolicyError> {
        let meta = self.call("metadata", |world, store| world.metadata(store))?;
        convert::metadata_out(meta)
    }

    /// `Ok(Err(message))` is the policy refusing its settings.
    pub fn validate_settings(&mut self, settings: &str) -> Result<Result<(), String>, PolicyError> {
        self.call("validate-settings", |world, store| {
            world.validate_settings(store, settings)
        })
    }

    pub fn identify(
        &mut self,
        settings: &str,
        request: &Request,
    ) -> Result<Option<Identity>, PolicyError> {
        let lists = convert::RequestLists::new(request);
        let request = lists.request(request);
        let found = self.call("identify", |world, store| {
            world.identify(store, settings, request)
        })?;
        convert::identity_out(found)
    }

    pub fn evaluate(&mut self, settings: &str, request: &Request) -> Result<Decision, PolicyError> {
        let lists = convert::RequestLists::new(request);
        let request = lists.request(request);
        let decision: wit::Decision = self.call("evaluate", |world, store| {
            world.evaluate(store, settings, request)
        })?;
        convert::decision_out(decision)
    }

    fn call<R>(
        &mut self,
        what: &'static str,
        f: impl FnOnce(&PolicyExports, &mut Store<PolicyState>) -> wasmtime::Result<R>,
    ) -> Result<R, PolicyError> {
        if let Some(broken) = &self.broken {
            return Err(PolicyError::new(
                broken.kind,
                format!(
                    "{what}: not entered again after an earlier failure ({})",
                    broken.message
                ),
            ));
        }
        arm(&mut self.store, self.fuel).map_err(|e| internal(what, &e))?;
        self.store.data_mut().log.reset();
        self.store.data().stderr.clear();
        let result = f(&self.world, &mut self.store);
        let dropped = self.store.data_mut().log.finish(what);
        self.log_dropped = self.log_dropped.saturating_add(u64::from(dropped));
        let last_error = self.store.data_mut().log.take_last_error();
        result.map_err(|error| {
            let mut failure = classify(CallFailure {
                error,
                memory_refused: self.store.data().limiter.memory_refused,
                exhausted: self.store.data().budget.exhausted,
                what,
            });
            // A trap says only where the guest stopped; what it logged at
            // error level just before (the SDK's panic hook logs the
            // panic message) says why, and failing that, the end of its
            // stderr (where Python and JavaScript print an uncaught
            // exception).
            if failure.kind == PolicyErrorKind::Trap {
                if let Some(logged) = last_error {
                    failure.message = format!("{}; the policy logged: {logged}", failure.message);
                } else if let Some(stderr) = self.store.data().stderr.quote() {
                    let state = self.store.data();
                    state.log.stderr(what, &state.stderr.text());
                    let stderr = state.log.bounded(&stderr);
                    failure.message =
                        format!("{}; the policy's stderr ends: {stderr}", failure.message);
                }
            }
            self.broken = Some(failure.clone());
            failure
        })
    }
}

/// Gives the next call its own budget, checked from the next epoch tick
/// on, and, when metering is on, its own fuel.
fn arm(store: &mut Store<PolicyState>, fuel: Option<u64>) -> wasmtime::Result<()> {
    store.data_mut().budget.start();
    store.set_epoch_deadline(1);
    if let Some(fuel) = fuel {
        store.set_fuel(fuel)?;
    }
    Ok(())
}
