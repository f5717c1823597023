//! Contract versions: a component built against `berth:policy@0.1.0`
//! before 0.2 existed still loads and decides, beside 0.2 components; and
//! a 0.2 component's queries are answered from the chain host of the run.

mod support;

use berth_core::chain::{ChainHost, PolicyChain};
use berth_policy_runtime::PolicyConfig;
use berth_policy_sdk::harness::{binding, candidate, pool, RequestBuilder};
use berth_policy_sdk::{Candidate, Decision, Identity, Request};
use sha2::{Digest, Sha256};
use std::path::Path;
use support::{decision_of, load, run, stateless, sts, TestHost};

/// The digest its README records: a fixture rebuilt from today's sources
/// would be a 0.2 component and prove nothing.
const FIXTURE_SHA256: &str = "7a0610f53704160432e6bd7b5932a337a5f4df582d4352766248a299a8e4cd0f";

fn fixture() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/contract-0.1/sticky-statefulset.wasm");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(hex::encode(Sha256::digest(&bytes)), FIXTURE_SHA256);
    bytes
}

fn old_sticky() -> PolicyConfig {
    PolicyConfig::bytes("sticky-0-1", fixture()).with_sha256(FIXTURE_SHA256)
}

#[test]
fn a_component_built_for_0_1_loads_and_decides_like_its_0_2_build() {
    let old = load(&[old_sticky()]);
    let new = load(&[PolicyConfig::builtin("sticky-0-1", "sticky-statefulset")]);
    assert_eq!(old.policies()[0].metadata().contract, "0.1.0");
    assert_eq!(new.policies()[0].metadata().contract, "0.2.0");

    let held = TestHost {
        bindings: vec![binding("test-ippool", "10.6.168.102")],
        ..TestHost::default()
    };
    for (what, request, host) in [
        (
            "sts, nothing held",
            sts("default", "test-sts", 0),
            TestHost::default(),
        ),
        ("sts, holding .102", sts("default", "test-sts", 0), held),
        ("stateless", stateless(), TestHost::default()),
    ] {
        let was = run(&old, &request, &host).unwrap_or_else(|e| panic!("{what}: {e}"));
        let is = run(&new, &request, &host).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(was, is, "{what}");
    }
    // The run really went through the old component: it stated the
    // identity and picked the held address.
    let outcome = run(
        &old,
        &sts("default", "test-sts", 0),
        &TestHost {
            bindings: vec![binding("test-ippool", "10.6.168.102")],
            ..TestHost::default()
        },
    )
    .expect("runs");
    assert_eq!(
        outcome.picked,
        Some(candidate("test-ippool", "10.6.168.102")),
        "{outcome:?}"
    );
    assert!(outcome.identity.is_some());
}

#[test]
fn components_of_both_contracts_share_a_chain() {
    let chain = load(&[
        old_sticky(),
        PolicyConfig::builtin("quota", "namespace-quota")
            .with_settings(serde_json::json!({ "maxPerPool": 100 })),
    ]);
    let outcome = run(&chain, &stateless(), &TestHost::default()).expect("runs");
    assert_eq!(decision_of(&outcome, "sticky-0-1"), Decision::Abstain);
    assert_eq!(outcome.trace.len(), 4, "{:?}", outcome.trace);
}

/// A host whose free addresses are exactly `free` (its range queries are
/// `ChainHost`'s default: `is_assignable` address by address) and whose
/// release times are `released`.
#[derive(Default)]
struct QueryHost {
    free: Vec<Candidate>,
    released: Vec<(Candidate, u64)>,
}

impl ChainHost for QueryHost {
    fn bindings_of(&self, _identity: &Identity) -> Vec<berth_policy_sdk::Binding> {
        Vec::new()
    }
    fn is_assignable(&self, candidate: &Candidate, _identity: Option<&Identity>) -> bool {
        self.free.contains(candidate)
    }
    fn released_at(&self, pool: &str, address: std::net::IpAddr) -> Option<u64> {
        self.released
            .iter()
            .find(|(c, _)| c.pool == pool && c.address == address.to_string())
            .map(|(_, at)| *at)
    }
}

fn infra_reserve() -> PolicyConfig {
    infra_reserve_with(serde_json::json!({
        "infra": { "matchLabels": { "role": "infra" } },
        "reserve": [{ "pool": "lab", "range": "10.70.0.1-10.70.0.9" }]
    }))
}

fn infra_reserve_with(settings: serde_json::Value) -> PolicyConfig {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let built = berth_wasm_build::build_components(
        &root,
        &["infra-reserve"],
        berth_wasm_build::Profile::Release,
    )
    .unwrap_or_else(|e| panic!("building infra-reserve: {e}"));
    let bytes = std::fs::read(&built[0].1).expect("read component");
    PolicyConfig::bytes("infra-reserve", bytes).with_settings(settings)
}

fn lab(role: &str) -> Request {
    RequestBuilder::new()
        .label("role", role)
        .pools(vec![pool("lab", "10.70.0.0/24")])
        .candidates(vec![
            candidate("lab", "10.70.0.2"),
            candidate("lab", "10.70.0.20"),
        ])
        .build()
}

#[test]
fn a_0_2_components_queries_are_answered_by_the_runs_host() {
    let chain = load(&[infra_reserve()]);
    assert_eq!(chain.policies()[0].metadata().contract, "0.2.0");
    let host = QueryHost {
        free: ["10.70.0.2", "10.70.0.7", "10.70.0.20"]
            .map(|a| candidate("lab", a))
            .to_vec(),
        ..QueryHost::default()
    };
    // .2 was sampled, but the query finds it first; then with .2 taken,
    // the query finds .7, which no sample offered.
    let outcome = chain.run(lab("infra"), &host).expect("runs");
    assert_eq!(outcome.picked, Some(candidate("lab", "10.70.0.2")));
    let host = QueryHost {
        free: ["10.70.0.7", "10.70.0.20"]
            .map(|a| candidate("lab", a))
            .to_vec(),
        ..QueryHost::default()
    };
    let mut request = lab("infra");
    request.candidates.remove(0);
    let outcome = chain.run(request, &host).expect("runs");
    assert_eq!(outcome.picked, Some(candidate("lab", "10.70.0.7")));
    // Others never get the reserve.
    let outcome = chain.run(lab("web"), &host).expect("runs");
    assert_eq!(outcome.candidates, vec![candidate("lab", "10.70.0.20")]);
    // With the reserve full, an infra pod is refused with the reason.
    let outcome = chain.run(lab("infra"), &QueryHost::default());
    assert!(outcome.is_err(), "a full reserve rejects: {outcome:?}");
}

#[test]
fn a_0_2_component_reads_release_times_through_the_runs_host() {
    let chain = load(&[infra_reserve_with(serde_json::json!({
        "infra": { "matchLabels": { "role": "infra" } },
        "reserve": [{ "pool": "lab", "range": "10.70.0.1-10.70.0.9" }],
        "cooldownSecs": 300
    }))]);
    let request = lab("infra");
    let now = request.now_unix_secs;
    let free = ["10.70.0.2", "10.70.0.7", "10.70.0.20"]
        .map(|a| candidate("lab", a))
        .to_vec();
    // .2 was let go a minute ago: the guest asks, and takes .7.
    let host = QueryHost {
        free: free.clone(),
        released: vec![(candidate("lab", "10.70.0.2"), now - 60)],
    };
    let outcome = chain.run(request.clone(), &host).expect("runs");
    assert_eq!(outcome.picked, Some(candidate("lab", "10.70.0.7")));
    // Released long enough ago, .2 is taken again.
    let host = QueryHost {
        free,
        released: vec![(candidate("lab", "10.70.0.2"), now - 3_600)],
    };
    let outcome = chain.run(request, &host).expect("runs");
    assert_eq!(outcome.picked, Some(candidate("lab", "10.70.0.2")));
}
