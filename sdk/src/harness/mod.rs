//! Native test harness: build requests with sensible defaults and call a
//! policy the way the host would, with JSON settings, without any Wasm.
//!
//! Every answer goes through the host's own legality rules
//! (`crate::chain`): an answer the daemon would refuse (a pick that is not
//! a legal candidate, a narrow to addresses nobody offered, ...) panics with
//! the daemon's message, so the unit test fails instead of passing on
//! something that fails in production. Queries (`crate::query`) are answered
//! from a [`FakeView`]: by default the request's candidates are free.

mod expect;
mod request;
mod view;

pub use expect::{assert_decision, assert_settings_refused};
pub use request::{binding, candidate, pool, RequestBuilder};
pub use view::FakeView;

use crate::chain::{
    check_decision, run_chain, ChainError, ChainOutcome, FailurePolicy, PolicyError, PolicyStep,
    StepOutcome,
};
use crate::policy::{evaluate_or_reject, identify_or_none, validate_settings};
use crate::query::with_view;
use crate::{Binding, Decision, Identity, Policy, Request};
use std::marker::PhantomData;
use std::rc::Rc;

/// Calls a [`Policy`] with JSON settings, as the component would.
pub struct Harness<P> {
    settings: String,
    policy: PhantomData<fn() -> P>,
}

impl<P: Policy> Harness<P> {
    /// Validates `settings` like the host does at load.
    pub fn new(settings: &str) -> Result<Self, String> {
        validate_settings::<P>(settings)?;
        Ok(Self::unvalidated(settings))
    }

    /// Skips validation, to test what the guest does with bad settings.
    pub fn unvalidated(settings: &str) -> Self {
        Self {
            settings: settings.to_owned(),
            policy: PhantomData,
        }
    }

    /// The identify phase: like the host, hides candidates, bindings and
    /// any identity from the policy.
    pub fn identify(&self, request: &Request) -> Option<Identity> {
        let mut request = request.clone();
        request.candidates.clear();
        request.bindings.clear();
        request.identity = None;
        let view = Rc::new(FakeView::of(&request));
        with_view(view, || identify_or_none::<P>(&self.settings, &request))
    }

    /// The evaluate phase, on the request exactly as given, with
    /// [`FakeView::of`] the request answering queries.
    ///
    /// # Panics
    /// When the host would refuse the answer, with the host's reason.
    pub fn evaluate(&self, request: &Request) -> Decision {
        self.evaluate_with(request, FakeView::of(request))
    }

    /// [`Harness::evaluate`] with `view` answering queries and legality.
    ///
    /// # Panics
    /// When the host would refuse the answer, with the host's reason.
    pub fn evaluate_with(&self, request: &Request, view: FakeView) -> Decision {
        match self.check(request, view) {
            Ok(decision) => decision,
            Err(error) => panic!("the host refuses {}'s answer: {error}", P::NAME),
        }
    }

    /// The evaluate phase with the host's verdict on the answer instead of
    /// a panic: for tests of what a policy must never answer.
    pub fn check(&self, request: &Request, view: FakeView) -> Result<Decision, PolicyError> {
        let view = Rc::new(view);
        let decision = with_view(view.clone(), || {
            evaluate_or_reject::<P>(&self.settings, request)
        });
        check_decision(request, &decision, &*view)?;
        Ok(decision)
    }

    /// Both phases as a one-policy chain, run by the host's chain logic:
    /// identify, then (if an identity was stated) attach `held` as its
    /// bindings and put those that match the request's interface, family
    /// and pools first among the candidates, then evaluate.
    ///
    /// # Panics
    /// When the host would refuse an answer, with the host's reason.
    pub fn run(&self, request: &Request, held: &[Binding]) -> (Option<Identity>, Decision) {
        let view = FakeView::of(request).held(held);
        let (identity, result) = match self.chain(request, view) {
            Ok(outcome) => (outcome.identity.clone(), Ok(outcome.trace)),
            Err(ChainError::Rejected { reason, trace, .. }) => {
                (stated_identity(&trace), Err(Decision::Reject(reason)))
            }
            Err(ChainError::Failed { error, .. }) => {
                panic!("the host refuses {}'s answer: {error}", P::NAME)
            }
        };
        let decision = match result {
            Ok(trace) => trace
                .into_iter()
                .rev()
                .find_map(|t| match t.outcome {
                    StepOutcome::Decided(d) => Some(d),
                    _ => None,
                })
                .unwrap_or(Decision::Abstain),
            Err(reject) => reject,
        };
        (identity, decision)
    }

    /// The policy as the only one of a chain, with `view` as the allocator:
    /// everything the host would make of its answers.
    pub fn chain(&self, request: &Request, view: FakeView) -> Result<ChainOutcome, ChainError> {
        let view = Rc::new(view);
        let mut step = NativeStep::<P> {
            settings: &self.settings,
            view: view.clone(),
            policy: PhantomData,
        };
        run_chain(&mut [&mut step], request.clone(), &*view)
    }
}

fn stated_identity(trace: &[crate::chain::TraceStep]) -> Option<Identity> {
    trace.iter().find_map(|t| match &t.outcome {
        StepOutcome::Identified(found) => found.clone(),
        _ => None,
    })
}

/// The policy as a step of the host's chain, queries answered by `view`.
struct NativeStep<'a, P> {
    settings: &'a str,
    view: Rc<FakeView>,
    policy: PhantomData<fn() -> P>,
}

impl<P: Policy> PolicyStep for NativeStep<'_, P> {
    fn name(&self) -> &str {
        P::NAME
    }

    fn failure_policy(&self) -> FailurePolicy {
        FailurePolicy::Fail
    }

    fn identify(&mut self, request: &Request) -> Result<Option<Identity>, PolicyError> {
        Ok(with_view(self.view.clone(), || {
            identify_or_none::<P>(self.settings, request)
        }))
    }

    fn evaluate(&mut self, request: &Request) -> Result<Decision, PolicyError> {
        Ok(with_view(self.view.clone(), || {
            evaluate_or_reject::<P>(self.settings, request)
        }))
    }
}

#[cfg(test)]
mod tests;
