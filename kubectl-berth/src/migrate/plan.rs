//! The migration plan, decided before anything is written (pure: the
//! caller reads the cluster into [`Inputs`] and writes [`Step`]s only when
//! the plan has no [`Conflict`]).
//!
//! Reservations and pools first: each SpiderReservedIP becomes a
//! BerthReservedIP ([`super::reserved`]), each SpiderIPPool becomes a BerthPool of the same name
//! (Spiderpool's pod and namespace annotations keep working, berthd reads
//! them), validated and judged with the BerthPools already there, as every
//! node would judge it. Then one BerthAddress per address a SpiderEndpoint
//! holds ([`super::endpoints`]), cross-checked with the pools' own
//! `status.allocatedIPs`. Re-planning after a migration finds every object
//! in place and plans nothing.

use super::model::{step, Action, Inputs, Plan, Targets, Write};
use super::pool_map::berth_spec;
use super::spider::SpiderIPPool;
use berth_core::admission::admit;
use berth_core::pool::{Pool, PoolSpec};
use berth_kube::convert::{berth_pool, pool_spec};
use berth_kube::pool_admission::candidates;
use berth_kube::BerthPool;
use kube::ResourceExt;
use std::collections::BTreeMap;

pub fn plan(inputs: &Inputs<'_>) -> Plan {
    let mut plan = Plan::default();
    // In the order they are written: reservations before the pools they
    // apply to, pools before the addresses in them.
    super::reserved::reserved(inputs.reserved, inputs.berth_reserved, &mut plan);
    let targets = pools(inputs, &mut plan);
    super::endpoints::addresses(inputs, &targets, &mut plan);
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
