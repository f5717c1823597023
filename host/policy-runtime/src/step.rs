//! A policy of a chain, for one run: it instantiates lazily on its first
//! call (a chain that stops early never pays for later policies) and keeps
//! that instance for its identify and evaluate calls of this run only.

use crate::engine::Inner;
use crate::instance::PolicyInstance;
use crate::policy::LoadedPolicy;
use berth_core::chain::{FailurePolicy, PolicyError, PolicyStep};
use berth_policy_sdk::{Decision, Identity, Request};

pub(crate) struct WasmStep<'a> {
    runtime: &'a Inner,
    pub policy: &'a LoadedPolicy,
    instance: Option<PolicyInstance>,
    /// Instantiation failed; later calls of this run report it again.
    failed: Option<PolicyError>,
    /// Errors handed back without entering the guest (it already failed
    /// in this run): the metrics count a failure once, not per phase.
    pub repeats: u32,
    /// Guest calls actually made.
    pub calls: u64,
}

impl<'a> WasmStep<'a> {
    pub fn new(runtime: &'a Inner, policy: &'a LoadedPolicy) -> Self {
        Self {
            runtime,
            policy,
            instance: None,
            failed: None,
            repeats: 0,
            calls: 0,
        }
    }

    pub fn log_dropped(&self) -> u64 {
        self.instance.as_ref().map_or(0, |i| i.log_dropped)
    }

    fn with_instance<R>(
        &mut self,
        request: &Request,
        call: impl FnOnce(&mut PolicyInstance, &str) -> Result<R, PolicyError>,
    ) -> Result<R, PolicyError> {
        if let Some(error) = &self.failed {
            self.repeats += 1;
            return Err(error.clone());
        }
        if self.instance.is_none() {
            // Seed and clock of the run: identify and evaluate see the
            // same request-derived values.
            match PolicyInstance::new(
                self.runtime,
                &self.policy.pre,
                self.policy.needs,
                &self.policy.name,
                request.seed,
                request.now_unix_secs,
            ) {
                Ok(instance) => self.instance = Some(instance),
                Err(error) => {
                    self.failed = Some(error.clone());
                    return Err(error);
                }
            }
        }
        let Some(instance) = self.instance.as_mut() else {
            return Err(PolicyError::new(
                berth_core::chain::PolicyErrorKind::Internal,
                "instance missing after instantiation",
            ));
        };
        if instance.broken().is_some() {
            self.repeats += 1;
        } else {
            self.calls += 1;
        }
        call(instance, &self.policy.settings)
    }
}

impl PolicyStep for WasmStep<'_> {
    fn name(&self) -> &str {
        &self.policy.name
    }

    fn failure_policy(&self) -> FailurePolicy {
        self.policy.failure_policy
    }

    fn identify(&mut self, request: &Request) -> Result<Option<Identity>, PolicyError> {
        self.with_instance(request, |instance, settings| {
            instance.identify(settings, request)
        })
    }

    fn evaluate(&mut self, request: &Request) -> Result<Decision, PolicyError> {
        self.with_instance(request, |instance, settings| {
            instance.evaluate(settings, request)
        })
    }
}
