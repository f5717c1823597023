//! `berth-policy run`: a dry run of a candidate chain. Each request a
//! live chain decided (the request behind a running berthd's allocation,
//! or a recorded fixture) goes through the candidate chain in the real
//! host runtime, and every way its decision differs from the live one is
//! printed: a rule change shown before it applies.
//!
//! A replay knows what the request's host knew when it was recorded: the
//! sampled candidates, the identity's bindings, the live pick. A pick the
//! candidate makes outside those is refused as illegal, since nothing
//! says that address was free.

use crate::component;
use crate::fixture::{chosen, Fixture, FixtureHost, Outcome};
use anyhow::{bail, Context, Result};
use berth_core::chain::{ChainError, ChainOutcome, PolicyChain};
use berth_policy_runtime::{LoadedChain, Runtime, RuntimeLimits};
use berth_policy_sdk::{Candidate, Identity};
use berth_proto::admin::{AdminRequest, AdminResponse};
use berth_proto::client::{self, ClientError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(
    specs: &[String],
    settings: &[PathBuf],
    against: Option<&Path>,
    fixtures: &[PathBuf],
) -> Result<ExitCode> {
    let runtime = Runtime::new(RuntimeLimits::default())?;
    let chain = runtime
        .load_chain(&component::chain(specs, settings)?)
        .context("the host refused the candidate chain")?;
    let mut tally = Tally::default();
    match against {
        Some(socket) => {
            for allocation in client::all_allocations(socket)? {
                let label = format!("{} {}", allocation.address, allocation.pod);
                match kept_fixture(socket, &allocation.address)? {
                    Ok((value, committed)) => match serde_json::from_value::<Fixture>(value) {
                        Ok(fixture) => tally.compare(&chain, &label, &fixture, Some(committed)),
                        Err(e) => {
                            tally.skip(&label, &format!("berthd's fixture is unreadable: {e}"))
                        }
                    },
                    Err(why) => tally.skip(&label, &why),
                }
            }
        }
        None => {
            for file in fixtures {
                let all = crate::fixture::read(file)?;
                for (i, fixture) in all.iter().enumerate() {
                    let pod = &fixture.request;
                    let label = format!(
                        "{}#{} {}/{}",
                        file.display(),
                        i + 1,
                        pod.namespace,
                        pod.pod_name
                    );
                    // A saved fixture says what the live chain decided,
                    // not which address the allocator then committed.
                    tally.compare(&chain, &label, fixture, None);
                }
            }
        }
    }
    println!(
        "{} evaluated: {} differ, {} same; {} skipped",
        tally.differ + tally.same,
        tally.differ,
        tally.same,
        tally.skipped
    );
    Ok(if tally.differ == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The fixture of the request behind `address` and the address berthd
/// committed for it, or why berthd has none.
fn kept_fixture(
    socket: &Path,
    address: &str,
) -> Result<Result<(serde_json::Value, Candidate), String>> {
    let request = AdminRequest::ExplainRequest {
        address: address.to_owned(),
    };
    match client::admin(socket, request) {
        Ok(AdminResponse::Request {
            fixture,
            pool,
            address,
        }) => Ok(Ok((fixture, Candidate { pool, address }))),
        Ok(other) => bail!("berthd answered something unexpected: {other:?}"),
        Err(ClientError::Refused(why)) => Ok(Err(why)),
        Err(error) => Err(error.into()),
    }
}

#[derive(Default)]
struct Tally {
    differ: usize,
    same: usize,
    skipped: usize,
}

impl Tally {
    fn skip(&mut self, label: &str, why: &str) {
        self.skipped += 1;
        println!("skip {label}: {why}");
    }

    fn compare(
        &mut self,
        chain: &LoadedChain,
        label: &str,
        fixture: &Fixture,
        committed: Option<Candidate>,
    ) {
        let result = chain.run(fixture.request.clone(), &FixtureHost(fixture));
        let changes = differences(fixture, committed, &result);
        if changes.is_empty() {
            self.same += 1;
        } else {
            self.differ += 1;
            println!("DIFF {label}");
            for change in changes {
                println!("     {change}");
            }
        }
    }
}

/// How the candidate's decision (`result`) differs from the live one the
/// fixture recorded and the address berthd `committed` (when known), one
/// line per aspect: "what: live → candidate".
fn differences(
    fixture: &Fixture,
    committed: Option<Candidate>,
    result: &Result<ChainOutcome, ChainError>,
) -> Vec<String> {
    let live = &fixture.expect;
    let (outcome, reason) = match result {
        Ok(_) => (Outcome::Allocated, None),
        Err(ChainError::Rejected { policy, reason, .. }) => {
            (Outcome::Rejected, Some(format!("{policy}: {reason}")))
        }
        Err(ChainError::Failed { policy, error, .. }) => {
            (Outcome::Failed, Some(format!("{policy}: {error}")))
        }
    };
    if outcome != live.outcome {
        let why = reason.map(|r| format!(" ({r})")).unwrap_or_default();
        return vec![format!(
            "outcome: {} → {}{why}",
            word(live.outcome),
            word(outcome)
        )];
    }
    let Ok(run) = result else {
        return Vec::new();
    };
    let mut changes = Vec::new();
    if let Some(identity) = &live.identity {
        if identity != &run.identity {
            changes.push(format!(
                "identity: {} → {}",
                describe(identity.as_ref()),
                describe(run.identity.as_ref())
            ));
        }
    }
    let live_address = committed.or_else(|| live.picked.clone().flatten());
    if live_address.is_none() && live.picked.is_some() {
        // Only the live chain's pick is known, and it picked nothing.
        if let Some(picked) = &run.picked {
            changes.push(format!(
                "pick: none (the allocator chose) → {} (pool {})",
                picked.address, picked.pool
            ));
        }
    }
    if let Some(live_address) = live_address {
        let now = match (chosen(run), run.pools.first()) {
            (Some(c), _) if *c == live_address => None,
            (Some(c), _) => Some(format!("{} (pool {})", c.address, c.pool)),
            // Left to the allocator: the same pool may well give the same
            // address; another pool cannot.
            (None, Some(pool)) if !run.narrowed && *pool == live_address.pool => None,
            (None, Some(pool)) if !run.narrowed => Some(format!("any free address of {pool}")),
            (None, _) => Some("no address".to_owned()),
        };
        if let Some(now) = now {
            changes.push(format!(
                "address: {} (pool {}) → {now}",
                live_address.address, live_address.pool
            ));
        }
    }
    changes
}

fn word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Allocated => "allocated",
        Outcome::Rejected => "rejected",
        Outcome::Failed => "failed",
    }
}

fn describe(identity: Option<&Identity>) -> String {
    match identity {
        Some(i) => format!(
            "{} ({})",
            i.key,
            berth_core::describe::retention(i.retention)
        ),
        None => "none".to_owned(),
    }
}
