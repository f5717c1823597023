//! `berth-policy bench`: what a policy costs per evaluation in the real
//! host runtime, read beside the default chain measured in the same run.
//!
//! One evaluation is one chain run as berthd does it for one address
//! family: a fresh instance of each policy, identify, evaluate, drop. The
//! two chains alternate run by run over the same requests, so a noisy
//! neighbour or a frequency change weighs on both alike: read the ratio,
//! not the absolute numbers.

use crate::component;
use crate::fixture::{Expect, Fixture, FixtureHost, Outcome};
use anyhow::{bail, Context, Result};
use berth_core::chain::PolicyChain;
use berth_policy_runtime::{LoadedChain, PolicyConfig, Runtime, RuntimeLimits};
use berth_policy_sdk::harness::{binding, RequestBuilder};
use berth_policy_sdk::Request;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

pub fn run(
    spec: &str,
    settings: Option<&Path>,
    fixtures: &[PathBuf],
    iterations: usize,
) -> Result<ExitCode> {
    if iterations == 0 {
        bail!("--iterations must be at least 1");
    }
    let settings = settings.map(component::settings).transpose()?;
    let candidate_config = component::config(spec, settings)?;
    let name = candidate_config.name.clone();
    let cases = match fixtures {
        [] => sample_cases(),
        files => read_cases(files)?,
    };
    let runtime = Runtime::new(RuntimeLimits::default())?;
    let candidate = runtime
        .load_chain(&[candidate_config])
        .with_context(|| format!("the host refused {spec}"))?;
    let default = berth_builtin_policies::DEFAULT_POLICY;
    let baseline = runtime
        .load_chain(&[PolicyConfig::builtin(default, default)])
        .context("loading the default chain")?;

    let warmup = (iterations / 10).max(1);
    let mut ours = Series::default();
    let mut theirs = Series::default();
    for i in 0..warmup + iterations {
        let case = &cases[i % cases.len()];
        let keep = i >= warmup;
        // Who goes first alternates too: the second run of a pair finds
        // the caches the first one warmed.
        if i % 2 == 0 {
            ours.time(&candidate, case, keep);
            theirs.time(&baseline, case, keep);
        } else {
            theirs.time(&baseline, case, keep);
            ours.time(&candidate, case, keep);
        }
    }
    println!(
        "{iterations} evaluations of each chain after {warmup} to warm up, alternating, \
         over {} request(s); a fresh instance per evaluation:",
        cases.len()
    );
    println!("{:<44} {:>10} {:>10}   outcomes", "", "median", "p99");
    let (ours_median, ours_p99) = ours.print(&format!("candidate: {name}"));
    let (base_median, base_p99) = theirs.print(&format!("default chain: {default}"));
    println!(
        "{:<44} {:>9.2}× {:>9.2}×",
        "candidate / default chain",
        ratio(ours_median, base_median),
        ratio(ours_p99, base_p99)
    );
    Ok(ExitCode::SUCCESS)
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(f64::MIN_POSITIVE)
}

/// Durations of one chain's evaluations and how they ended.
#[derive(Default)]
struct Series {
    samples: Vec<Duration>,
    allocated: usize,
    rejected: usize,
    failed: usize,
}

impl Series {
    fn time(&mut self, chain: &LoadedChain, case: &Fixture, keep: bool) {
        let request = case.request.clone();
        let host = FixtureHost(case);
        let started = Instant::now();
        let result = chain.run(request, &host);
        let spent = started.elapsed();
        if !keep {
            return;
        }
        self.samples.push(spent);
        match result {
            Ok(_) => self.allocated += 1,
            Err(berth_core::chain::ChainError::Rejected { .. }) => self.rejected += 1,
            Err(berth_core::chain::ChainError::Failed { .. }) => self.failed += 1,
        }
    }

    /// Prints one row; returns (median, p99).
    fn print(&mut self, label: &str) -> (Duration, Duration) {
        self.samples.sort_unstable();
        let at = |q: f64| {
            let i = ((self.samples.len() as f64 * q) as usize).min(self.samples.len() - 1);
            self.samples[i]
        };
        let (median, p99) = (at(0.5), at(0.99));
        println!(
            "{label:<44} {:>10} {:>10}   {} allocated, {} rejected, {} failed",
            micros(median),
            micros(p99),
            self.allocated,
            self.rejected,
            self.failed
        );
        (median, p99)
    }
}

fn micros(d: Duration) -> String {
    format!("{:.1}µs", d.as_secs_f64() * 1e6)
}

fn read_cases(files: &[PathBuf]) -> Result<Vec<Fixture>> {
    let mut cases = Vec::new();
    for file in files {
        cases.extend(crate::fixture::read(file)?);
    }
    if cases.is_empty() {
        bail!("the fixture files hold no fixtures");
    }
    Ok(cases)
}

/// A busy node's requests: eight pools, 32 sampled candidates; a
/// StatefulSet pod whose identity holds an address (the default policy
/// picks it) and a stateless pod (it abstains).
fn sample_cases() -> Vec<Fixture> {
    let case = |request: Request, held: bool| Fixture {
        description: String::new(),
        settings: None,
        request,
        bindings: if held {
            vec![binding("pool-1", "10.1.0.11")]
        } else {
            Vec::new()
        },
        free: Vec::new(),
        expect: Expect {
            outcome: Outcome::Allocated,
            reason: None,
            identity: None,
            decision: None,
            picked: None,
        },
    };
    let builder = RequestBuilder::busy_node;
    vec![
        case(builder().stateful_set("test-sts", 1).build(), true),
        case(
            builder()
                .pod_name("web-7d9f-abcde")
                .owner("ReplicaSet", "web-7d9f")
                .build(),
            false,
        ),
    ]
}
