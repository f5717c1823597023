//! The trait policy authors implement, and its object-safe adapter.

use crate::settings::parse_settings;
use crate::{Decision, Identity, Metadata, Request, CONTRACT_VERSION};
use serde::de::DeserializeOwned;

/// An allocation policy. Implement it on a unit struct and export it with
/// `berth_policy_sdk::export_policy!(MyPolicy);`.
///
/// Settings are parsed from JSON on every call (a fresh instance serves each
/// request, so there is nowhere to cache them); keep them small.
pub trait Policy {
    /// Parsed settings. Use `#[serde(deny_unknown_fields)]` so typos are
    /// refused at load; `Default` is what an empty or `null` setting means.
    type Settings: DeserializeOwned + Default;

    /// The policy's name as shown in traces and metrics.
    const NAME: &'static str;
    /// The policy's own version (not the contract's).
    const VERSION: &'static str;

    /// Checks settings beyond what their type enforces. Called at load; an
    /// error refuses the whole chain.
    fn validate(_settings: &Self::Settings) -> Result<(), String> {
        Ok(())
    }

    /// Phase 1: the identity this request binds to, or `None`. The request
    /// has no candidates and no bindings in this phase.
    fn identify(_settings: &Self::Settings, _request: &Request) -> Option<Identity> {
        None
    }

    /// Phase 2: the decision, seeing the chain's identity, its bindings and
    /// the candidates as the policies before this one left them.
    fn evaluate(settings: &Self::Settings, request: &Request) -> Decision;
}

/// A policy behind a pointer, taking settings as raw JSON: what the host's
/// native tests hold as `Box<dyn DynPolicy>`, and what the guest export
/// calls. Every `P: Policy` implements it through [`Native`].
pub trait DynPolicy: Send + Sync {
    fn metadata(&self) -> Metadata;
    fn validate_settings(&self, settings: &str) -> Result<(), String>;
    fn identify(&self, settings: &str, request: &Request) -> Result<Option<Identity>, String>;
    fn evaluate(&self, settings: &str, request: &Request) -> Result<Decision, String>;
}

/// Adapts a [`Policy`] type to [`DynPolicy`]:
/// `Box::new(Native::<MyPolicy>::new())`.
pub struct Native<P>(std::marker::PhantomData<fn() -> P>);

impl<P> Native<P> {
    pub fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

impl<P> Default for Native<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Policy> DynPolicy for Native<P> {
    fn metadata(&self) -> Metadata {
        metadata::<P>()
    }

    fn validate_settings(&self, settings: &str) -> Result<(), String> {
        validate_settings::<P>(settings)
    }

    fn identify(&self, settings: &str, request: &Request) -> Result<Option<Identity>, String> {
        let settings = parse_settings::<P::Settings>(settings)?;
        Ok(P::identify(&settings, request))
    }

    fn evaluate(&self, settings: &str, request: &Request) -> Result<Decision, String> {
        let settings = parse_settings::<P::Settings>(settings)?;
        Ok(P::evaluate(&settings, request))
    }
}

pub(crate) fn metadata<P: Policy>() -> Metadata {
    Metadata {
        name: P::NAME.to_owned(),
        version: P::VERSION.to_owned(),
        contract: CONTRACT_VERSION.to_owned(),
    }
}

pub(crate) fn validate_settings<P: Policy>(settings: &str) -> Result<(), String> {
    let parsed = parse_settings::<P::Settings>(settings)?;
    P::validate(&parsed).map_err(|err| format!("settings: {err}"))
}

/// What a guest answers when its settings do not parse inside `identify`
/// or `evaluate` (validate-settings should have refused them at load, so
/// this means the host skipped validation): identify states no identity,
/// and evaluate rejects with the parse error, so the mistake is visible in
/// the request's error instead of a silent trap or a silent abstain.
pub(crate) fn evaluate_or_reject<P: Policy>(settings: &str, request: &Request) -> Decision {
    match parse_settings::<P::Settings>(settings) {
        Ok(parsed) => P::evaluate(&parsed, request),
        Err(err) => Decision::Reject(format!("invalid settings: {err}")),
    }
}

pub(crate) fn identify_or_none<P: Policy>(settings: &str, request: &Request) -> Option<Identity> {
    match parse_settings::<P::Settings>(settings) {
        Ok(parsed) => P::identify(&parsed, request),
        Err(err) => {
            crate::log::error(&format!("invalid settings: {err}"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{candidate, RequestBuilder};
    use serde::Deserialize;

    #[derive(Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Limit {
        #[serde(default)]
        max: u32,
    }

    struct Toy;

    impl Policy for Toy {
        type Settings = Limit;
        const NAME: &'static str = "toy";
        const VERSION: &'static str = "1.2.3";

        fn validate(s: &Limit) -> Result<(), String> {
            (s.max < 100)
                .then_some(())
                .ok_or_else(|| "max must be < 100".into())
        }

        fn evaluate(s: &Limit, r: &Request) -> Decision {
            match r.candidates.get(s.max as usize) {
                Some(c) => Decision::Pick(c.clone()),
                None => Decision::Abstain,
            }
        }
    }

    #[test]
    fn dyn_policy_parses_settings_per_call() {
        let p: Box<dyn DynPolicy> = Box::new(Native::<Toy>::new());
        assert_eq!(
            p.metadata(),
            Metadata {
                name: "toy".into(),
                version: "1.2.3".into(),
                contract: CONTRACT_VERSION.into()
            }
        );
        assert_eq!(p.validate_settings(""), Ok(()));
        assert_eq!(
            p.validate_settings(r#"{"max": 100}"#),
            Err("settings: max must be < 100".into())
        );
        let r = RequestBuilder::new().build();
        assert_eq!(p.identify("", &r), Ok(None));
        assert_eq!(
            p.evaluate(r#"{"max": 1}"#, &r),
            Ok(Decision::Pick(candidate("default-pool", "10.0.0.11")))
        );
        let err = p.evaluate(r#"{"max": "1"}"#, &r).unwrap_err();
        assert!(err.starts_with("settings.max: invalid type"), "{err}");
    }

    #[test]
    fn guest_paths_reject_bad_settings_visibly() {
        let r = RequestBuilder::new().build();
        match evaluate_or_reject::<Toy>("{", &r) {
            Decision::Reject(reason) => assert!(
                reason.starts_with("invalid settings: settings: EOF"),
                "{reason}"
            ),
            other => panic!("{other:?}"),
        }
        let _ = crate::log::take_captured();
        assert_eq!(identify_or_none::<Toy>("{", &r), None);
        let logs = crate::log::take_captured();
        assert_eq!(logs.len(), 1);
        assert!(logs[0].1.starts_with("invalid settings"), "{logs:?}");
    }
}
