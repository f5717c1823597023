//! sticky-statefulset, Berth's default policy.
//!
//! * A StatefulSet pod is bound to the identity `namespace/statefulset/ordinal`,
//!   retained after DEL until the ordinal is retired (scaled away or the
//!   StatefulSet deleted), then held `holdAfterScaleDown` longer so scaling
//!   back up restores the address.
//! * In evaluate, if that identity holds an address for the request's
//!   interface and family in a current pool (the host put it first among the
//!   candidates), the policy picks it. Otherwise it abstains: the pod gets any
//!   address, and when the pool changed the host drops the old binding once
//!   the new address is committed.
//! * `stableIdentities` extends stickiness to pods that are not StatefulSet
//!   members (single-host users with stable pod names):
//!   - `{"ownerKind": "ReplicaSet"}` → key `namespace/ownerKind/ownerName/podName`
//!     (a pod name is only stable where the runtime reuses it, so the key
//!     includes it; the owner parts keep two owners' pods apart);
//!   - `{"podNamePattern": "test-sts-*"}` → key `namespace/podName`;
//!   - `retainSecs` absent: held until an operator releases it
//!     (`KeepUntilRetired(0)`), else `KeepForSecs(retainSecs)`.
//! * `statefulSets: false` turns StatefulSet stickiness off.
//!
//! Every other pod: no identity, abstain.

// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

#[cfg(any(test, feature = "examples"))]
pub mod examples;
mod glob;
mod key;
mod settings;

use berth_policy_sdk::{log, Candidate, Decision, Identity, Policy, Request, Retention};
pub use settings::{Settings, StableRule};

pub struct StickyStatefulSet;

impl Policy for StickyStatefulSet {
    type Settings = Settings;
    const NAME: &'static str = "sticky-statefulset";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn validate(settings: &Settings) -> Result<(), String> {
        settings.validate()
    }

    fn identify(settings: &Settings, request: &Request) -> Option<Identity> {
        let (raw, retention) = identity_parts(settings, request)?;
        let key = key::bounded(raw)?;
        Some(Identity { key, retention })
    }

    fn evaluate(settings: &Settings, request: &Request) -> Decision {
        // Only pick for an identity this policy would state: another
        // policy's identity is its business, and with the feature switched
        // off a StatefulSet pod must behave as stateless.
        let ours = Self::identify(settings, request).map(|i| i.key);
        let chain = request.identity.as_ref().map(|i| &i.key);
        if ours.is_none() || ours.as_ref() != chain {
            return Decision::Abstain;
        }
        match held_candidate(request) {
            Some(held) => {
                log::debug(&format!(
                    "{}: keeping {} of pool {}",
                    request.pod_name, held.address, held.pool
                ));
                Decision::Pick(held)
            }
            None => Decision::Abstain,
        }
    }
}

fn identity_parts(settings: &Settings, request: &Request) -> Option<(String, Retention)> {
    let ns = &request.namespace;
    if settings.stateful_sets {
        if let Some(sts) = &request.stateful_set {
            let hold = settings.hold_after_scale_down.0;
            let key = format!("{ns}/{}/{}", sts.name, sts.ordinal);
            return Some((key, Retention::KeepUntilRetired(hold)));
        }
    }
    let pod = &request.pod_name;
    if pod.is_empty() {
        return None;
    }
    settings.stable_identities.iter().find_map(|rule| {
        let retention = match rule.retain_secs {
            None => Retention::KeepUntilRetired(0),
            Some(secs) => Retention::KeepForSecs(secs.0),
        };
        if let Some(kind) = &rule.owner_kind {
            let owner = request.owner.as_ref().filter(|o| o.kind == *kind)?;
            return Some((format!("{ns}/{kind}/{}/{pod}", owner.name), retention));
        }
        let pattern = rule.pod_name_pattern.as_deref()?;
        glob::matches(pattern, pod).then(|| (format!("{ns}/{pod}"), retention))
    })
}

/// The first candidate that is an address the identity holds for this
/// interface and family in a current pool.
fn held_candidate(request: &Request) -> Option<Candidate> {
    request
        .candidates
        .iter()
        .find(|c| {
            request.pools.iter().any(|p| p.name == c.pool)
                && request.bindings.iter().any(|b| {
                    b.pool == c.pool
                        && b.address == c.address
                        && b.interface == request.interface
                        && b.family == request.family
                })
        })
        .cloned()
}

berth_policy_sdk::export_policy!(StickyStatefulSet);

#[cfg(test)]
mod tests;
