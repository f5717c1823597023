//! `kubectl berth allocations`: the held addresses, one row per
//! BerthAddress, in address order.

use crate::output::{or_none, relative, short_duration, structured, Format, Table};
use crate::read::Held;
use berth_core::describe;
use berth_kube::crd_address::AddressState;
use berth_kube::BerthPool;
use serde::Serialize;
use std::net::IpAddr;

/// One held address as `allocations` shows it (and `-o json` prints it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AllocationRow {
    /// The BerthAddress object.
    pub object: String,
    pub pool: String,
    pub address: String,
    /// "namespace/name" of the pod that holds (or last held) it.
    pub pod: String,
    pub pod_uid: String,
    pub identity: Option<String>,
    pub retention: Option<String>,
    /// "Attached" or "Retained".
    pub state: String,
    pub retained_since_unix_secs: Option<u64>,
    pub expires_at_unix_secs: Option<u64>,
    pub node: String,
    pub network: String,
    pub interface: String,
    pub container_id: Option<String>,
    /// "Kind/name" of the pod's controller.
    pub owner: Option<String>,
    pub created_at_unix_secs: u64,
    /// Why berthd cannot read this object (see `kubectl berth check`).
    pub malformed: Option<String>,
    /// Outside its pool's ranges now, or of a removed pool: held for its
    /// holder, never handed out again once released (`orphans`).
    pub orphaned: bool,
}

/// Which rows to keep beyond what the listing already narrowed.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub namespace: Option<String>,
}

/// The rows of `held`, orphaned ones marked as judged against `pools`.
pub fn rows(held: &[Held], pools: &[BerthPool], filter: &Filter) -> Vec<AllocationRow> {
    let verdict = berth_kube::pool_admission::judge(pools);
    let names = crate::orphans::pool_names(pools);
    let mut rows: Vec<AllocationRow> = held
        .iter()
        .filter(|h| {
            filter
                .namespace
                .as_ref()
                .is_none_or(|ns| h.object.spec.pod.namespace == *ns)
        })
        .map(|h| AllocationRow {
            orphaned: crate::orphans::is_orphaned(&names, &verdict, h),
            ..row(h)
        })
        .collect();
    // Address order (numeric, v4 before v6), then pool.
    rows.sort_by(|a, b| {
        let key = |r: &AllocationRow| (r.address.parse::<IpAddr>().ok(), r.pool.clone());
        key(a).cmp(&key(b))
    });
    rows
}

fn row(h: &Held) -> AllocationRow {
    let s = &h.object.spec;
    let pod = if s.pod.namespace.is_empty() && s.pod.name.is_empty() {
        String::new()
    } else {
        format!("{}/{}", s.pod.namespace, s.pod.name)
    };
    AllocationRow {
        object: h.name(),
        pool: s.pool.clone(),
        address: s.address.clone(),
        pod,
        pod_uid: s.pod.uid.clone(),
        identity: s.identity.as_ref().map(|i| i.key.clone()),
        retention: h
            .record
            .as_ref()
            .ok()
            .and_then(|r| r.identity.as_ref())
            .map(|i| describe::retention(i.retention)),
        state: match s.state {
            AddressState::Attached => "Attached",
            AddressState::Retained => "Retained",
        }
        .to_owned(),
        retained_since_unix_secs: s.retained_since_unix_secs,
        expires_at_unix_secs: s.expires_at_unix_secs,
        node: s.node.clone(),
        network: s.network.clone(),
        interface: s.interface.clone(),
        container_id: s.attachment.as_ref().map(|a| a.container_id.clone()),
        owner: s.owner.as_ref().map(|o| format!("{}/{}", o.kind, o.name)),
        created_at_unix_secs: s.created_at_unix_secs,
        malformed: h.record.as_ref().err().map(ToString::to_string),
        orphaned: false,
    }
}

pub fn render(rows: &[AllocationRow], format: Format, now: u64) -> anyhow::Result<String> {
    if let Some(text) = structured(&rows, format)? {
        return Ok(text);
    }
    if rows.is_empty() {
        return Ok("No allocations found.\n".to_owned());
    }
    let wide = format == Format::Wide;
    let mut headers = vec![
        "POOL",
        "ADDRESS",
        "POD",
        "IDENTITY",
        "RETENTION",
        "STATE",
        "EXPIRES",
        "NODE",
    ];
    if wide {
        headers.extend(["NETWORK", "INTERFACE", "CONTAINER", "OWNER", "AGE"]);
    }
    let mut table = Table::new(headers);
    for r in rows {
        let state = match (&r.malformed, r.orphaned) {
            (Some(_), _) => format!("{} (malformed)", r.state),
            (None, true) => format!("{} (orphaned)", r.state),
            (None, false) => r.state.clone(),
        };
        let expires = match (r.state.as_str(), r.expires_at_unix_secs) {
            (_, Some(at)) => relative(at, now),
            ("Retained", None) => "never".to_owned(),
            _ => "-".to_owned(),
        };
        let mut cells = vec![
            r.pool.clone(),
            r.address.clone(),
            or_none(Some(&r.pod)),
            or_none(r.identity.as_deref()),
            or_none(r.retention.as_deref()),
            state,
            expires,
            r.node.clone(),
        ];
        if wide {
            cells.extend([
                r.network.clone(),
                r.interface.clone(),
                or_none(r.container_id.as_deref().map(short_id)),
                or_none(r.owner.as_deref()),
                short_duration(now.saturating_sub(r.created_at_unix_secs)),
            ]);
        }
        table.row(cells);
    }
    Ok(table.render())
}

/// Container ids are 64 hex digits; 12 identify one, as `docker ps` shows.
fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}
