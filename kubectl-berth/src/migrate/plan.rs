//! The migration plan, decided before anything is written (pure: the
//! caller reads the cluster into [`Inputs`] and writes [`Step`]s only when
//! the plan has no [`Conflict`]).
//!
//! Pools first: each SpiderIPPool becomes a BerthPool of the same name
//! (Spiderpool's pod and namespace annotations keep working, berthd reads
//! them), validated and judged with the BerthPools already there, as every
//! node would judge it. Then one BerthAddress per address a SpiderEndpoint
//! holds ([`super::endpoints`]), cross-checked with the pools' own
//! `status.allocatedIPs`. Re-planning after a migration finds every object
//! in place and plans nothing.

use super::pool_map::berth_spec;
use super::spider::{SpiderEndpoint, SpiderIPPool, SpiderReservedIP};
use crate::read::Held;
use berth_core::admission::admit;
use berth_core::pool::{Pool, PoolSpec};
use berth_core::record::AddressRecord;
use berth_kube::convert::{berth_pool, pool_spec};
use berth_kube::pool_admission::candidates;
use berth_kube::BerthPool;
use berth_policy_sdk::{Owner, StatefulSet};
use kube::ResourceExt;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use sticky_statefulset::Settings;

/// What the cluster says about the pod of a SpiderEndpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workload {
    /// A pod with the endpoint's name and UID exists and has not finished.
    pub running: bool,
    pub owner: Option<Owner>,
    pub stateful_set: Option<StatefulSet>,
}

/// Everything the plan reads.
pub struct Inputs<'a> {
    pub spider_pools: &'a [SpiderIPPool],
    pub reserved: &'a [SpiderReservedIP],
    pub endpoints: &'a [SpiderEndpoint],
    /// By (namespace, pod name).
    pub workloads: &'a BTreeMap<(String, String), Workload>,
    pub berth_pools: &'a [BerthPool],
    pub held: &'a [Held],
    /// The default policy's settings in Berth's config; `None` when the
    /// chain has no sticky-statefulset (no identities are stated).
    pub sticky: Option<&'a Settings>,
    pub now: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    /// Already in Berth as the migration would write it.
    Unchanged,
    /// A BerthPool of that name exists with another spec: left as it is.
    Kept,
}

/// One object of the plan.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub action: Action,
    pub kind: &'static str,
    pub name: String,
    pub detail: String,
    #[serde(skip)]
    pub write: Option<Write>,
}

/// What a `create` step writes.
#[derive(Debug, Clone)]
pub enum Write {
    Pool(Box<BerthPool>),
    Address(Box<AddressRecord>),
}

/// Something that does not carry over, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Note {
    pub object: String,
    pub reason: String,
}

/// Something that stops the migration before any write.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    pub address: Option<String>,
    pub object: String,
    pub problem: String,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub steps: Vec<Step>,
    pub not_migrated: Vec<Note>,
    pub conflicts: Vec<Conflict>,
}

impl Plan {
    pub fn note(&mut self, object: impl Into<String>, reason: impl Into<String>) {
        self.not_migrated.push(Note {
            object: object.into(),
            reason: reason.into(),
        });
    }

    pub fn conflict(
        &mut self,
        address: Option<String>,
        object: impl Into<String>,
        problem: impl Into<String>,
    ) {
        self.conflicts.push(Conflict {
            address,
            object: object.into(),
            problem: problem.into(),
        });
    }

    /// The steps that write something.
    pub fn creates(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.action == Action::Create)
    }
}

/// The pools addresses may be migrated into: name → the pool as it will
/// be (the existing BerthPool when one is kept).
pub type Targets = BTreeMap<String, Pool>;

pub fn plan(inputs: &Inputs<'_>) -> Plan {
    let mut plan = Plan::default();
    let targets = pools(inputs, &mut plan);
    super::endpoints::addresses(inputs, &targets, &mut plan);
    reserved(inputs, &targets, &mut plan);
    plan.not_migrated.sort();
    plan.conflicts.sort();
    plan
}

fn pools(inputs: &Inputs<'_>, plan: &mut Plan) -> Targets {
    let existing: BTreeMap<String, &BerthPool> = inputs
        .berth_pools
        .iter()
        .map(|p| (p.name_any(), p))
        .collect();
    let mut spider: Vec<&SpiderIPPool> = inputs.spider_pools.iter().collect();
    spider.sort_by_key(|p| p.name_any());
    let mut targets = Targets::new();
    let mut created: Vec<PoolSpec> = Vec::new();
    for pool in spider {
        let name = pool.name_any();
        let object = format!("spiderippool/{name}");
        let (spec, lost) = berth_spec(pool);
        for reason in lost {
            plan.note(&object, reason);
        }
        let Some(spec) = spec else { continue };
        let validated = match Pool::from_spec(&spec) {
            Ok(p) => p,
            Err(e) => {
                plan.conflict(None, &object, format!("cannot be a BerthPool: {e}"));
                continue;
            }
        };
        let detail = format!("{} ips {}", spec.subnet, spec.ips.join(","));
        match existing.get(&name).map(|p| pool_spec(p)) {
            Some(Ok(current)) if current == spec => {
                plan.steps
                    .push(step(Action::Unchanged, "BerthPool", &name, detail, None));
                targets.insert(name, validated);
            }
            Some(Ok(current)) => {
                plan.steps.push(step(
                    Action::Kept,
                    "BerthPool",
                    &name,
                    "exists with another spec; kept as it is".to_owned(),
                    None,
                ));
                match Pool::from_spec(&current) {
                    Ok(p) => {
                        targets.insert(name, p);
                    }
                    Err(e) => plan.conflict(
                        None,
                        format!("berthpool/{name}"),
                        format!("is invalid: {e}"),
                    ),
                }
            }
            Some(Err(e)) => plan.conflict(None, format!("berthpool/{name}"), e.to_string()),
            None => {
                let write = Write::Pool(Box::new(berth_pool(&spec)));
                plan.steps.push(step(
                    Action::Create,
                    "BerthPool",
                    &name,
                    detail,
                    Some(write),
                ));
                created.push(spec);
                targets.insert(name, validated);
            }
        }
    }
    // Judged as the nodes will judge them: the existing pools keep their
    // precedence, a new pool overlapping one of them would be unusable.
    let mut all: Vec<Result<Pool, _>> = candidates(inputs.berth_pools)
        .into_iter()
        .map(|s| s.and_then(|s| Pool::from_spec(&s)))
        .collect();
    all.extend(created.iter().map(Pool::from_spec));
    let verdict = admit(all);
    for spec in &created {
        if let Some(e) = verdict.invalid.iter().find(|e| e.pool == spec.name) {
            plan.conflict(
                None,
                format!("spiderippool/{}", spec.name),
                format!("as a BerthPool it would be invalid: {e}"),
            );
            targets.remove(&spec.name);
        }
    }
    targets
}

pub fn step(
    action: Action,
    kind: &'static str,
    name: &str,
    detail: String,
    write: Option<Write>,
) -> Step {
    Step {
        action,
        kind,
        name: name.to_owned(),
        detail,
        write,
    }
}

/// SpiderReservedIP is not migrated (yet): each one is listed with the
/// migrated pools whose subnets contain its addresses, for the operator
/// to reserve them in a BerthReservedIP before the cut-over.
fn reserved(inputs: &Inputs<'_>, targets: &Targets, plan: &mut Plan) {
    for r in inputs.reserved {
        let ips = &r.spec.ips;
        let mut inside = BTreeSet::new();
        for entry in ips {
            let Ok(range) = berth_policy_sdk::addr::AddrRange::parse(entry) else {
                continue;
            };
            for (name, pool) in targets {
                if pool.subnet.contains(&range.start()) || pool.subnet.contains(&range.end()) {
                    inside.insert(name.as_str());
                }
            }
        }
        let risk = if inside.is_empty() {
            String::new()
        } else {
            let names: Vec<&str> = inside.into_iter().collect();
            format!(
                "; they lie in pool(s) {}, which may hand them out: reserve them in a BerthReservedIP first",
                names.join(", ")
            )
        };
        plan.note(
            format!("spiderreservedip/{}", r.name_any()),
            format!(
                "not migrated (create a BerthReservedIP with them): {} NOT reserved in Berth{risk}",
                ips.join(",")
            ),
        );
    }
}
