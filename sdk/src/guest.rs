//! The guest side of the contract (wasm32 only): the one place generated
//! types (`bindings.rs`) convert to and from SDK types.

use crate::policy::{evaluate_or_reject, identify_or_none, metadata, validate_settings};
use crate::{
    Binding, Candidate, Decision, Identity, IpFamily, KeyValue, Owner, Policy, Pool, Request,
    Retention, StatefulSet,
};

use crate::bindings::berth::policy::types as wit;
use crate::bindings::exports::berth::policy::policy as export;

/// The generated `Guest` trait, implemented for any [`Policy`].
pub struct Exported<P>(std::marker::PhantomData<fn() -> P>);

/// Routes a panic's message to the host log before the guest traps: on
/// wasm32 a panic aborts with nothing but `unreachable`, so without this
/// the operator would never learn what went wrong. Installed on the first
/// call into an instance (each evaluation gets a fresh one).
fn report_panics() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            crate::log::error(&format!("policy panicked: {info}"));
        }));
    });
}

impl<P: Policy> export::Guest for Exported<P> {
    fn metadata() -> export::PolicyMetadata {
        report_panics();
        let m = metadata::<P>();
        export::PolicyMetadata {
            name: m.name,
            version: m.version,
            contract: m.contract,
        }
    }

    fn validate_settings(settings: String) -> Result<(), String> {
        report_panics();
        validate_settings::<P>(&settings)
    }

    fn identify(settings: String, request: wit::Request) -> Option<wit::Identity> {
        report_panics();
        identify_or_none::<P>(&settings, &request.into()).map(Into::into)
    }

    fn evaluate(settings: String, request: wit::Request) -> wit::Decision {
        report_panics();
        evaluate_or_reject::<P>(&settings, &request.into()).into()
    }
}

fn family(f: wit::IpFamily) -> IpFamily {
    match f {
        wit::IpFamily::V4 => IpFamily::V4,
        wit::IpFamily::V6 => IpFamily::V6,
    }
}

fn pairs(list: Vec<wit::KeyValue>) -> Vec<KeyValue> {
    list.into_iter()
        .map(|kv| KeyValue {
            key: kv.key,
            value: kv.value,
        })
        .collect()
}

impl From<wit::Retention> for Retention {
    fn from(r: wit::Retention) -> Self {
        match r {
            wit::Retention::ReleaseOnDelete => Retention::ReleaseOnDelete,
            wit::Retention::KeepForSecs(s) => Retention::KeepForSecs(s),
            wit::Retention::KeepUntilRetired(s) => Retention::KeepUntilRetired(s),
        }
    }
}

impl From<Identity> for wit::Identity {
    fn from(i: Identity) -> Self {
        wit::Identity {
            key: i.key,
            retention: match i.retention {
                Retention::ReleaseOnDelete => wit::Retention::ReleaseOnDelete,
                Retention::KeepForSecs(s) => wit::Retention::KeepForSecs(s),
                Retention::KeepUntilRetired(s) => wit::Retention::KeepUntilRetired(s),
            },
        }
    }
}

fn candidate(c: Candidate) -> wit::Candidate {
    wit::Candidate {
        pool: c.pool,
        address: c.address,
    }
}

impl From<Decision> for wit::Decision {
    fn from(d: Decision) -> Self {
        match d {
            Decision::Abstain => wit::Decision::Abstain,
            Decision::RestrictPools(p) => wit::Decision::RestrictPools(p),
            Decision::Narrow(c) => wit::Decision::Narrow(c.into_iter().map(candidate).collect()),
            Decision::Reorder(c) => wit::Decision::Reorder(c.into_iter().map(candidate).collect()),
            Decision::Pick(c) => wit::Decision::Pick(candidate(c)),
            Decision::Reject(r) => wit::Decision::Reject(r),
        }
    }
}

impl From<wit::Request> for Request {
    fn from(r: wit::Request) -> Self {
        Request {
            namespace: r.namespace,
            pod_name: r.pod_name,
            pod_uid: r.pod_uid,
            container_id: r.container_id,
            labels: pairs(r.labels),
            annotations: pairs(r.annotations),
            node: r.node,
            interface: r.interface,
            family: family(r.family),
            owner: r.owner.map(|o| Owner {
                kind: o.kind,
                name: o.name,
                uid: o.uid,
            }),
            stateful_set: r.stateful_set.map(|s| StatefulSet {
                name: s.name,
                ordinal: s.ordinal,
                replicas: s.replicas,
            }),
            pools: r
                .pools
                .into_iter()
                .map(|p| Pool {
                    name: p.name,
                    subnet: p.subnet,
                    family: family(p.family),
                    total: p.total,
                    free: p.free,
                    namespace_used: p.namespace_used,
                })
                .collect(),
            identity: r.identity.map(|i| Identity {
                key: i.key,
                retention: i.retention.into(),
            }),
            bindings: r
                .bindings
                .into_iter()
                .map(|b| Binding {
                    pool: b.pool,
                    address: b.address,
                    interface: b.interface,
                    family: family(b.family),
                    attached: b.attached,
                })
                .collect(),
            candidates: r
                .candidates
                .into_iter()
                .map(|c| Candidate {
                    pool: c.pool,
                    address: c.address,
                })
                .collect(),
            free_total: r.free_total,
            requested: r.requested,
            seed: r.seed,
            now_unix_secs: r.now_unix_secs,
        }
    }
}
