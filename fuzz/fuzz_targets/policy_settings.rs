//! Policy settings: the JSON a daemon config's `policies[].settings` (or a
//! policy CR) carries, validated at load by each built-in policy's
//! `validate-settings`, then used for requests.
//!
//! The built-in policies run as Wasm components in berthd; the component
//! wraps the same Rust code this target calls natively through the SDK's
//! `Native` adapter (`berth_policy_sdk::DynPolicy`), so the settings
//! parser, each policy's `validate` and its `identify`/`evaluate` are
//! fuzzed without a Wasm runtime in the loop.
//!
//! Input: settings JSON text; optionally a NUL byte then a pod name, used
//! for one extra request (so `podNamePattern` globs meet fuzzed names).
//!
//! Properties, for each of sticky-statefulset, ordinal-pinned,
//! namespace-quota and label-pool:
//! * validation is deterministic and its errors name the settings;
//! * settings a policy accepted are never refused again when a request
//!   parses them (no "invalid settings" at request time);
//! * run through berth-core's own chain logic (`run_chain`) on a handful
//!   of requests (StatefulSet, ReplicaSet and plain pods, IPv4 and IPv6,
//!   with and without held addresses), a policy with accepted settings
//!   never gives an answer the host refuses as invalid (identity keys,
//!   picks, restrictions, narrowings): the chain ends with an outcome or
//!   a rejection, never a policy failure.

#![no_main]

use berth_core::chain::{run_chain, ChainError, ChainHost, FailurePolicy, PolicyError};
use berth_core::chain::{PolicyErrorKind, PolicyStep};
use berth_policy_sdk::addr::{parse_ip, Cidr};
use berth_policy_sdk::harness::{binding, candidate, pool, RequestBuilder};
use berth_policy_sdk::{
    Binding, Candidate, Decision, DynPolicy, Identity, IpFamily, Native, Request,
};
use libfuzzer_sys::fuzz_target;

fn policies() -> Vec<Box<dyn DynPolicy>> {
    vec![
        Box::new(Native::<sticky_statefulset::StickyStatefulSet>::new()),
        Box::new(Native::<ordinal_pinned::OrdinalPinned>::new()),
        Box::new(Native::<namespace_quota::NamespaceQuota>::new()),
        Box::new(Native::<label_pool::LabelPool>::new()),
    ]
}

fuzz_target!(|data: &[u8]| {
    let (settings, pod_name) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    // Settings reach the guest as a string.
    let Ok(settings) = std::str::from_utf8(settings) else {
        return;
    };
    let pod_name = pod_name.and_then(|p| std::str::from_utf8(p).ok());
    // Natively the SDK keeps policy log lines in a per-thread buffer; drain
    // it, or every run after the 10,000th line pays for a full one.
    let _ = berth_policy_sdk::log::take_captured();
    for policy in policies() {
        let verdict = policy.validate_settings(settings);
        assert_eq!(
            verdict,
            policy.validate_settings(settings),
            "not deterministic"
        );
        match verdict {
            Err(message) => assert!(message.starts_with("settings"), "{message}"),
            Ok(()) => {
                let mut step = Step {
                    policy,
                    settings: settings.to_owned(),
                };
                for request in requests(pod_name) {
                    run(&mut step, request);
                }
            }
        }
    }
});

fn requests(pod_name: Option<&str>) -> Vec<Request> {
    let v6 = pool("v6-pool", "fd00::/64");
    let db = pool("db-a", "10.1.0.0/24");
    let mut quota_full = pool("default-pool", "10.0.0.0/24");
    quota_full.namespace_used = 20;
    let mut out = vec![
        RequestBuilder::new()
            .stateful_set("test-sts", 0)
            .label("tier", "db")
            .build(),
        RequestBuilder::new()
            .stateful_set("test-sts", 7)
            .namespace("batch")
            .pools(vec![quota_full.clone(), db.clone()])
            .candidates(vec![
                candidate("default-pool", "10.0.0.10"),
                candidate("db-a", "10.1.0.10"),
            ])
            .build(),
        RequestBuilder::new()
            .stateful_set("web", 3)
            .family(IpFamily::V6)
            .pools(vec![v6])
            .candidates(vec![candidate("v6-pool", "fd00::10")])
            .build(),
        RequestBuilder::new()
            .pod_name("web-5d9f-abcde")
            .owner("ReplicaSet", "web-5d9f")
            .label("tier", "web")
            .build(),
        RequestBuilder::new()
            .pod_name("test-sts-0")
            .pools(vec![quota_full, db])
            .candidates(Vec::new())
            .build(),
    ];
    if let Some(name) = pod_name {
        out.push(
            RequestBuilder::new()
                .pod_name(name)
                .owner("ReplicaSet", name)
                .label("app", name)
                .build(),
        );
    }
    out
}

fn run(step: &mut Step, request: Request) {
    let host = Host {
        pools: request.pools.clone(),
    };
    let mut steps: [&mut dyn PolicyStep; 1] = [step];
    match run_chain(&mut steps, request, &host) {
        Ok(outcome) => {
            if let Some(picked) = &outcome.picked {
                assert_eq!(outcome.candidates, vec![picked.clone()]);
            }
        }
        Err(ChainError::Rejected { reason, .. }) => {
            assert!(
                !reason.starts_with("invalid settings"),
                "accepted settings refused at request time: {reason}"
            );
        }
        Err(ChainError::Failed { policy, error, .. }) => {
            panic!("{policy} with settings it accepted gave an invalid answer: {error}")
        }
    }
}

/// A policy with its settings, as one step of a chain.
struct Step {
    policy: Box<dyn DynPolicy>,
    settings: String,
}

impl PolicyStep for Step {
    fn name(&self) -> &str {
        "fuzzed"
    }

    fn failure_policy(&self) -> FailurePolicy {
        FailurePolicy::Fail
    }

    fn identify(&mut self, request: &Request) -> Result<Option<Identity>, PolicyError> {
        let answer = self.policy.identify(&self.settings, request);
        Ok(answer.expect("validated settings parse at identify"))
    }

    fn evaluate(&mut self, request: &Request) -> Result<Decision, PolicyError> {
        match self.policy.evaluate(&self.settings, request) {
            Ok(decision) => Ok(decision),
            Err(e) => Err(PolicyError::new(PolicyErrorKind::Internal, e)),
        }
    }
}

/// Every identity holds one address per family; anything in a pool's
/// subnet is assignable (the allocator's own rules are fuzzed elsewhere).
struct Host {
    pools: Vec<berth_policy_sdk::Pool>,
}

impl ChainHost for Host {
    fn bindings_of(&self, _identity: &Identity) -> Vec<Binding> {
        vec![
            binding("default-pool", "10.0.0.50"),
            binding("v6-pool", "fd00::50"),
        ]
    }

    fn is_assignable(&self, candidate: &Candidate, _identity: Option<&Identity>) -> bool {
        let Ok(addr) = parse_ip(&candidate.address) else {
            return false;
        };
        self.pools.iter().any(|p| {
            p.name == candidate.pool && Cidr::parse(&p.subnet).is_ok_and(|c| c.contains(addr))
        })
    }
}
