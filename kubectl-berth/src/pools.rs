//! `kubectl berth pools`: every pool with its usage counted from the
//! BerthAddress objects now, and its validity judged as every node judges
//! it (`berth_kube::pool_admission::judge`). Addresses of a pool that no
//! longer exists get a row of their own, marked removed.

use crate::output::{or_none, structured, Format, Table};
use crate::read::Held;
use berth_kube::crd_address::AddressState;
use berth_kube::pool_admission::judge;
use berth_kube::BerthPool;
use kube::ResourceExt;
use serde::Serialize;
use std::collections::BTreeMap;

/// One pool as `pools` shows it (and `-o json` prints it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolRow {
    pub name: String,
    /// "-" for a removed pool.
    pub subnet: String,
    pub ips: Vec<String>,
    pub exclude_ips: Vec<String>,
    pub gateway: Option<String>,
    pub default: bool,
    pub node_selector: BTreeMap<String, String>,
    pub namespace_selector: BTreeMap<String, String>,
    /// Addresses held: attached + retained.
    pub allocated: u64,
    pub attached: u64,
    pub retained: u64,
    /// Assignable addresses (0 for an invalid or removed pool).
    pub total: u64,
    /// Assignable addresses a BerthReservedIP covers (`pools_reserved`).
    pub reserved: u64,
    /// Held addresses outside the pool's ranges now (all of a removed
    /// pool's): kept for their holders, never handed out again.
    pub orphaned: u64,
    pub valid: bool,
    /// Why berthd does not use the pool.
    pub invalid_reason: Option<String>,
    /// The BerthPool is gone but some of its addresses are still held.
    pub removed: bool,
}

/// Addresses held per pool name (by `spec.pool`, as the status writer
/// counts them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub allocated: u64,
    pub attached: u64,
    pub retained: u64,
}

pub fn usage(held: &[Held]) -> BTreeMap<String, Usage> {
    let mut out: BTreeMap<String, Usage> = BTreeMap::new();
    for h in held {
        let u = out.entry(h.object.spec.pool.clone()).or_default();
        u.allocated += 1;
        match h.object.spec.state {
            AddressState::Attached => u.attached += 1,
            AddressState::Retained => u.retained += 1,
        }
    }
    out
}

/// The rows, in the pools' precedence order (oldest first, as nodes judge
/// them), then removed pools by name.
pub fn rows(pools: &[BerthPool], held: &[Held]) -> Vec<PoolRow> {
    let verdict = judge(pools);
    let mut used = usage(held);
    let orphaned = crate::orphans::count(pools, &verdict, held);
    let mut ordered: Vec<&BerthPool> = pools.iter().collect();
    ordered.sort_by_key(|p| {
        (
            p.metadata.creation_timestamp.as_ref().map(|t| t.0),
            p.name_any(),
        )
    });
    let mut out = Vec::with_capacity(pools.len());
    for pool in ordered {
        let name = pool.name_any();
        let u = used.remove(&name).unwrap_or_default();
        let total = verdict
            .valid
            .iter()
            .find(|p| p.name == name)
            .map_or(0, berth_core::Pool::total);
        let invalid_reason = verdict
            .invalid
            .iter()
            .find(|e| e.pool == name)
            .map(ToString::to_string);
        let s = &pool.spec;
        out.push(PoolRow {
            subnet: s.subnet.clone(),
            ips: s.ips.clone(),
            exclude_ips: s.exclude_ips.clone(),
            gateway: s.gateway.clone(),
            default: s.default,
            node_selector: s.node_selector.clone(),
            namespace_selector: s.namespace_selector.clone(),
            allocated: u.allocated,
            attached: u.attached,
            retained: u.retained,
            total,
            // Filled in by `pools_reserved::fill`.
            reserved: 0,
            orphaned: orphaned.get(&name).copied().unwrap_or(0),
            valid: invalid_reason.is_none(),
            invalid_reason,
            removed: false,
            name,
        });
    }
    for (name, u) in used {
        out.push(PoolRow {
            name,
            subnet: "-".to_owned(),
            allocated: u.allocated,
            attached: u.attached,
            retained: u.retained,
            orphaned: u.allocated,
            invalid_reason: Some("the BerthPool was deleted; release these addresses".into()),
            removed: true,
            ..PoolRow::default()
        });
    }
    out
}

/// A column of the table: its header, whether only `-o wide` shows it, and
/// how a row fills it. Adding a column is one entry here and one field
/// above.
struct Column {
    header: &'static str,
    wide: bool,
    cell: fn(&PoolRow) -> String,
}

const COLUMNS: &[Column] = &[
    Column {
        header: "NAME",
        wide: false,
        cell: |p| {
            if p.removed {
                format!("{} (removed)", p.name)
            } else {
                p.name.clone()
            }
        },
    },
    Column {
        header: "SUBNET",
        wide: false,
        cell: |p| p.subnet.clone(),
    },
    Column {
        header: "ALLOCATED",
        wide: false,
        cell: |p| p.allocated.to_string(),
    },
    Column {
        header: "TOTAL",
        wide: false,
        cell: |p| p.total.to_string(),
    },
    Column {
        header: "ATTACHED",
        wide: false,
        cell: |p| p.attached.to_string(),
    },
    Column {
        header: "RETAINED",
        wide: false,
        cell: |p| p.retained.to_string(),
    },
    Column {
        header: "RESERVED",
        wide: false,
        cell: |p| p.reserved.to_string(),
    },
    Column {
        header: "ORPHANED",
        wide: false,
        cell: |p| p.orphaned.to_string(),
    },
    Column {
        header: "DEFAULT",
        wide: false,
        cell: |p| p.default.to_string(),
    },
    Column {
        header: "VALID",
        wide: false,
        cell: |p| if p.valid { "True" } else { "False" }.to_owned(),
    },
    Column {
        header: "IPS",
        wide: true,
        cell: |p| or_none(Some(&p.ips.join(","))),
    },
    Column {
        header: "GATEWAY",
        wide: true,
        cell: |p| or_none(p.gateway.as_deref()),
    },
    Column {
        header: "NODE-SELECTOR",
        wide: true,
        cell: |p| or_none(Some(&selector(&p.node_selector))),
    },
    Column {
        header: "NAMESPACE-SELECTOR",
        wide: true,
        cell: |p| or_none(Some(&selector(&p.namespace_selector))),
    },
    Column {
        header: "REASON",
        wide: true,
        cell: |p| or_none(p.invalid_reason.as_deref()),
    },
];

fn selector(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

pub fn render(rows: &[PoolRow], format: Format) -> anyhow::Result<String> {
    if let Some(text) = structured(&rows, format)? {
        return Ok(text);
    }
    if rows.is_empty() {
        return Ok("No BerthPools found.\n".to_owned());
    }
    let columns: Vec<&Column> = COLUMNS
        .iter()
        .filter(|c| !c.wide || format == Format::Wide)
        .collect();
    let mut table = Table::new(columns.iter().map(|c| c.header).collect());
    for row in rows {
        table.row(columns.iter().map(|c| (c.cell)(row)).collect());
    }
    Ok(table.render())
}
