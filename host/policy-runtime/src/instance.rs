//! One live instance of a policy: a fresh `Store` and component instance
//! made from the policy's `InstancePre`, armed with a deadline, fuel and a
//! log budget before every call.
//!
//! An instance serves one chain run (or one load check) and is then
//! dropped, returning its slot to the pool: no state survives between
//! requests. Once a call fails, the instance is never entered again
//! (wasmtime forbids re-entering a trapped instance anyway).

use crate::bindings::{wit, PolicyWorld, PolicyWorldPre};
use crate::convert;
use crate::engine::Inner;
use crate::error::{classify, internal, CallFailure};
use crate::log::LogBudget;
use crate::sandbox::{Limiter, PolicyState};
use berth_core::chain::PolicyError;
use berth_policy_sdk::{Decision, Identity, Metadata, Request};
use std::sync::Arc;
use wasmtime::Store;

pub(crate) struct PolicyInstance {
    store: Store<PolicyState>,
    world: PolicyWorld,
    deadline_ticks: u64,
    fuel: Option<u64>,
    deadline_ms: u64,
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
        pre: &PolicyWorldPre<PolicyState>,
        policy: &Arc<str>,
        seed: u64,
        now_unix_secs: u64,
    ) -> Result<Self, PolicyError> {
        let limits = &runtime.limits;
        let state = PolicyState::new(
            Limiter::new(limits.memory_bytes, limits.table_elements),
            LogBudget::new(
                policy.clone(),
                limits.log_messages_per_call,
                limits.log_message_bytes,
            ),
            seed,
            now_unix_secs,
        );
        let mut store = Store::new(&runtime.engine, state);
        store.limiter(|state| &mut state.limiter);
        let deadline_ms = u64::try_from(limits.deadline().as_millis()).unwrap_or(u64::MAX);
        arm(&mut store, limits.deadline_ticks, limits.fuel_per_call)
            .map_err(|e| internal("arming the store", &e))?;
        // Start functions run here, so instantiation gets a deadline too.
        let world = pre.instantiate(&mut store).map_err(|error| {
            let memory_refused = store.data().limiter.memory_refused;
            if memory_refused || error.downcast_ref::<wasmtime::Trap>().is_some() {
                classify(CallFailure {
                    error,
                    memory_refused,
                    deadline_ms,
                    what: "instantiate",
                })
            } else {
                internal("instantiate", &error)
            }
        })?;
        Ok(Self {
            store,
            world,
            deadline_ticks: limits.deadline_ticks,
            fuel: limits.fuel_per_call,
            deadline_ms,
            broken: None,
            log_dropped: 0,
        })
    }

    /// The error that ended this instance, if any.
    pub fn broken(&self) -> Option<&PolicyError> {
        self.broken.as_ref()
    }

    pub fn metadata(&mut self) -> Result<Metadata, PolicyError> {
        let meta = self.call("metadata", |world, store| {
            world.berth_policy_policy().call_metadata(store)
        })?;
        convert::metadata_out(meta)
    }

    /// `Ok(Err(message))` is the policy refusing its settings.
    pub fn validate_settings(&mut self, settings: &str) -> Result<Result<(), String>, PolicyError> {
        self.call("validate-settings", |world, store| {
            world
                .berth_policy_policy()
                .call_validate_settings(store, settings)
        })
    }

    pub fn identify(
        &mut self,
        settings: &str,
        request: &Request,
    ) -> Result<Option<Identity>, PolicyError> {
        let request = convert::request(request);
        let found = self.call("identify", |world, store| {
            world
                .berth_policy_policy()
                .call_identify(store, settings, &request)
        })?;
        convert::identity_out(found)
    }

    pub fn evaluate(&mut self, settings: &str, request: &Request) -> Result<Decision, PolicyError> {
        let request = convert::request(request);
        let decision: wit::Decision = self.call("evaluate", |world, store| {
            world
                .berth_policy_policy()
                .call_evaluate(store, settings, &request)
        })?;
        convert::decision_out(decision)
    }

    fn call<R>(
        &mut self,
        what: &'static str,
        f: impl FnOnce(&PolicyWorld, &mut Store<PolicyState>) -> wasmtime::Result<R>,
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
        arm(&mut self.store, self.deadline_ticks, self.fuel).map_err(|e| internal(what, &e))?;
        self.store.data_mut().log.reset();
        let result = f(&self.world, &mut self.store);
        let dropped = self.store.data_mut().log.finish(what);
        self.log_dropped = self.log_dropped.saturating_add(u64::from(dropped));
        result.map_err(|error| {
            let failure = classify(CallFailure {
                error,
                memory_refused: self.store.data().limiter.memory_refused,
                deadline_ms: self.deadline_ms,
                what,
            });
            self.broken = Some(failure.clone());
            failure
        })
    }
}

/// Gives the next call its own deadline (relative to the current epoch)
/// and, when metering is on, its own fuel.
fn arm(
    store: &mut Store<PolicyState>,
    deadline_ticks: u64,
    fuel: Option<u64>,
) -> wasmtime::Result<()> {
    store.set_epoch_deadline(deadline_ticks);
    if let Some(fuel) = fuel {
        store.set_fuel(fuel)?;
    }
    Ok(())
}
