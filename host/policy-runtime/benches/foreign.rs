//! Python (componentize-py) and JavaScript (componentize-js) builds of the
//! sticky-statefulset rule beside the Rust built-in, in the same run:
//! loading (compiling the component and checking its settings) and one
//! chain run (fresh instance, identify, evaluate, drop).
//! `cargo bench -p berth-policy-runtime --bench foreign`.
//!
//! Targets (BRIEF §5): Python and JavaScript p99 ≤ 2 ms per evaluation,
//! load ≤ 5 s. "load" compiles (a fresh runtime, nothing cached); "cached"
//! is a fresh runtime loading the artefact an earlier one wrote to disk,
//! as berthd does after a restart.

// The tests' chain host (fixed bindings, every address assignable) and
// component builder; the bench uses a few of its helpers.
#[path = "../tests/support/mod.rs"]
mod support;

use berth_core::chain::PolicyChain;
use berth_policy_runtime::{PolicyConfig, Runtime, RuntimeLimits};
use berth_policy_sdk::harness::{binding, RequestBuilder};
use berth_policy_sdk::Request;
use berth_wasm_build::foreign::Language;
use std::time::{Duration, Instant};
use support::{foreign, held_any_free};

const RUNS: usize = 2_000;
const WARMUP: usize = 200;
const LOADS: usize = 3;

/// A busy node's request (the shape every bench times); the identity
/// holds one of its candidates.
fn request() -> Request {
    RequestBuilder::busy_node()
        .stateful_set("test-sts", 1)
        .build()
}

fn quantiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    (at(0.5), at(0.99))
}

fn main() {
    let python = foreign(Language::Python, "policies/sticky-statefulset-python");
    let js = foreign(
        Language::JavaScript,
        "policies/sticky-statefulset-js/policy.js",
    );
    let settings = serde_json::json!({"holdAfterScaleDown": "10m"});
    let configs = [
        (
            "rust (built-in)",
            PolicyConfig::builtin("sticky", "sticky-statefulset"),
        ),
        ("python", PolicyConfig::bytes("sticky", python)),
        ("javascript", PolicyConfig::bytes("sticky", js)),
    ];
    let request = request();
    let host = held_any_free(&[binding("pool-3", "10.3.0.13")]);
    println!(
        "{:<16} {:>9} {:>12} {:>12} {:>12} {:>12}",
        "policy", "size", "load", "cached", "run median", "run p99"
    );
    let cache = tempfile::tempdir().expect("cache dir");
    for (label, config) in configs {
        let config = config.with_settings(settings.clone());
        let size = match &config.source {
            berth_policy_runtime::PolicySource::Bytes(b) => b.len(),
            _ => berth_builtin_policies::get("sticky-statefulset").map_or(0, <[u8]>::len),
        };
        // A fresh runtime per load: nothing compiled is reused.
        let mut loads = Vec::new();
        let mut chain = None;
        for _ in 0..LOADS {
            let runtime = Runtime::new(RuntimeLimits::default()).expect("runtime");
            let started = Instant::now();
            chain = Some(
                runtime
                    .load_chain(std::slice::from_ref(&config))
                    .expect("loads"),
            );
            loads.push(started.elapsed());
        }
        let mut cached = Vec::new();
        for round in 0..=LOADS {
            let runtime = Runtime::with_artefact_cache(RuntimeLimits::default(), cache.path())
                .expect("runtime");
            let started = Instant::now();
            runtime
                .load_chain(std::slice::from_ref(&config))
                .expect("loads");
            // Round 0 compiles and writes the artefact.
            if round > 0 {
                cached.push(started.elapsed());
            }
        }
        let chain = chain.expect("loaded");
        for _ in 0..WARMUP {
            chain.run(request.clone(), &host).expect("runs");
        }
        let mut runs = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let started = Instant::now();
            let outcome = chain.run(request.clone(), &host).expect("runs");
            runs.push(started.elapsed());
            assert!(
                outcome.picked.is_some(),
                "{label} must pick the held address"
            );
        }
        let (load, _) = quantiles(loads);
        let (cached, _) = quantiles(cached);
        let (median, p99) = quantiles(runs);
        println!(
            "{label:<16} {:>7.1}Mi {load:>12.2?} {cached:>12.2?} {median:>12.1?} {p99:>12.1?}",
            size as f64 / (1024.0 * 1024.0)
        );
    }
}
