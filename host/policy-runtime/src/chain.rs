//! A loaded chain and how one run of it goes: fresh instances per policy,
//! `berth_core::chain::run_chain` for the semantics, then the metrics.

use crate::engine::Runtime;
use crate::policy::LoadedPolicy;
use crate::step::WasmStep;
use berth_core::chain::{
    run_chain, ChainError, ChainHost, ChainOutcome, PolicyChain, PolicyErrorKind, PolicyStep,
    StepOutcome, TraceStep,
};
use berth_policy_sdk::Request;
use std::time::Instant;

/// An ordered list of loaded policies. Running it never mutates it, so
/// one chain serves any number of concurrent runs.
#[derive(Debug)]
pub struct LoadedChain {
    runtime: Runtime,
    policies: Vec<LoadedPolicy>,
}

impl LoadedChain {
    pub(crate) fn new(runtime: Runtime, policies: Vec<LoadedPolicy>) -> Self {
        Self { runtime, policies }
    }

    pub fn policies(&self) -> &[LoadedPolicy] {
        &self.policies
    }

    fn account(&self, steps: &[WasmStep<'_>], result: &Result<ChainOutcome, ChainError>) {
        let (trace, failed) = match result {
            Ok(outcome) => (&outcome.trace, None),
            Err(ChainError::Rejected { trace, .. }) => (trace, None),
            Err(ChainError::Failed {
                policy,
                error,
                trace,
            }) => (trace, Some((policy.as_str(), error.kind))),
        };
        for step in steps {
            let counters = &step.policy.counters;
            counters.add_calls(step.calls);
            counters.add_log_dropped(step.log_dropped());
            // (kind, ignored) of every error this policy caused, in order.
            let mut errors: Vec<(PolicyErrorKind, bool)> = ignored_errors(trace, step.name());
            if let Some((policy, kind)) = failed {
                if policy == step.name() {
                    errors.push((kind, false));
                }
            }
            // Repeats come last: they follow the failure that broke the
            // instance, and nothing the guest answers comes after it.
            let counted = errors.len().saturating_sub(step.repeats as usize);
            for &(kind, ignored) in &errors[..counted] {
                counters.add_error(kind, ignored);
            }
            let limits = &self.runtime.inner.limits;
            counters.warnings.warn(
                step.name(),
                trace,
                step.repeats,
                limits.ignored_warnings_per_window,
                limits.ignored_warning_window,
            );
        }
    }
}

fn ignored_errors(trace: &[TraceStep], policy: &str) -> Vec<(PolicyErrorKind, bool)> {
    trace
        .iter()
        .filter(|t| t.policy == policy)
        .filter_map(|t| match &t.outcome {
            StepOutcome::IgnoredError(error) => Some((error.kind, true)),
            _ => None,
        })
        .collect()
}

impl PolicyChain for LoadedChain {
    fn run(&self, request: Request, host: &dyn ChainHost) -> Result<ChainOutcome, ChainError> {
        let started = Instant::now();
        let inner = &self.runtime.inner;
        let mut steps: Vec<WasmStep<'_>> = self
            .policies
            .iter()
            .map(|policy| WasmStep::new(inner, policy))
            .collect();
        let mut dyn_steps: Vec<&mut dyn PolicyStep> = steps
            .iter_mut()
            .map(|step| step as &mut dyn PolicyStep)
            .collect();
        // Queries of this run's guests are answered from `host`.
        let result = crate::query::with_host(host, || run_chain(&mut dyn_steps, request, host));
        drop(dyn_steps);
        self.account(&steps, &result);
        // Instances go back to the pool before the clock stops: dropping
        // them is part of what a run costs.
        drop(steps);
        inner.metrics.record_run(&result, started.elapsed());
        result
    }
}
