//! `kubectl berth migrate spiderpool`: Spiderpool's state as Berth's.
//!
//! Read everything ([`source`]), plan every object ([`plan`]) and write
//! only a plan without conflicts ([`write`]). `--dry-run` stops after the
//! plan. A second run plans only `unchanged` steps.

pub mod endpoints;
pub mod holders;
pub mod model;
pub mod plan;
pub mod pool_map;
pub mod reserved;
pub mod source;
pub mod spider;
pub mod spider_crds;
pub mod write;

use crate::output::{structured, Format, Table};
use model::{Action, Inputs, Plan};
use serde::Serialize;
use std::fmt::Write as _;
use write::Written;

/// What a run did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub plan: Plan,
    pub dry_run: bool,
    /// `None` when nothing was written (dry run, or conflicts).
    pub written: Option<Written>,
}

impl Outcome {
    /// The migration was stopped by conflicts.
    pub fn stopped(&self) -> bool {
        !self.plan.conflicts.is_empty()
    }
}

pub async fn run(
    client: &kube::Client,
    berth_config: &str,
    dry_run: bool,
    now: u64,
) -> anyhow::Result<Outcome> {
    let source = source::read(client, berth_config).await?;
    let plan = plan::plan(&Inputs {
        spider_pools: &source.spider_pools,
        reserved: &source.reserved,
        berth_reserved: &source.berth_reserved,
        endpoints: &source.endpoints,
        workloads: &source.workloads,
        berth_pools: &source.berth_pools,
        held: &source.held,
        sticky: source.sticky.as_ref(),
        now,
    });
    let written = if dry_run || !plan.conflicts.is_empty() {
        None
    } else {
        Some(write::write(client, &plan).await?)
    };
    Ok(Outcome {
        plan,
        dry_run,
        written,
    })
}

pub fn render(outcome: &Outcome, format: Format) -> anyhow::Result<String> {
    if let Some(text) = structured(outcome, format)? {
        return Ok(text);
    }
    let plan = &outcome.plan;
    let mut out = String::new();
    if plan.steps.is_empty() {
        out.push_str("Spiderpool holds nothing that can become a Berth object.\n");
    } else {
        let mut table = Table::new(vec!["ACTION", "KIND", "NAME", "DETAIL"]);
        for s in &plan.steps {
            let action = serde_json::to_value(s.action)?
                .as_str()
                .unwrap_or_default()
                .to_owned();
            table.row(vec![
                action,
                s.kind.to_owned(),
                s.name.clone(),
                s.detail.clone(),
            ]);
        }
        out.push_str(&table.render());
    }
    if !plan.not_migrated.is_empty() {
        out.push_str("\nNot migrated (no equivalent in Berth, or nothing to migrate):\n");
        for n in &plan.not_migrated {
            let _ = writeln!(out, "  {}: {}", n.object, n.reason);
        }
    }
    if outcome.stopped() {
        let _ = writeln!(
            out,
            "\nMigration stopped, nothing was written: {} conflict(s).",
            plan.conflicts.len()
        );
        let mut table = Table::new(vec!["ADDRESS", "OBJECT", "PROBLEM"]);
        for c in &plan.conflicts {
            table.row(vec![
                c.address.clone().unwrap_or_else(|| "-".to_owned()),
                c.object.clone(),
                c.problem.clone(),
            ]);
        }
        out.push_str(&table.render());
        return Ok(out);
    }
    let creates = plan.creates().count();
    let _ = match (outcome.dry_run, &outcome.written) {
        (true, _) => writeln!(
            out,
            "\nDry run: nothing was changed ({creates} object(s) would be created)."
        ),
        (false, _) if creates == 0 => {
            writeln!(out, "\nNothing to do: everything is migrated already.")
        }
        (false, Some(w)) => writeln!(
            out,
            "\nCreated {} BerthReservedIP(s), {} BerthPool(s) and {} BerthAddress(es).",
            w.reserved, w.pools, w.addresses
        ),
        (false, None) => Ok(()),
    };
    let unchanged = plan
        .steps
        .iter()
        .filter(|s| s.action != Action::Create)
        .count();
    if unchanged > 0 && creates > 0 {
        let _ = writeln!(out, "{unchanged} object(s) were in place already.");
    }
    Ok(out)
}
