//! `kubectl berth check`: the consistency report, like `calicoctl ipam
//! check`.
//!
//! One snapshot is read (pools, then addresses, then pods) and judged by
//! the rules in [`faults`]. The reads are not atomic, so a finding a
//! write in flight could explain (a pod created, an ADD answered, a
//! status rewritten between two lists) is read again directly before it
//! is reported; only what is still wrong then is a problem.

pub mod faults;

use crate::output::{structured, Format, Table};
use crate::read;
use berth_kube::names::address_object_name;
use berth_kube::pool_admission::judge;
use berth_kube::{BerthPool, PoolStatusWriter};
use faults::{Fault, Finding, Snapshot};
use kube::api::Api;
use kube::{Client, ResourceExt};
use serde::Serialize;
use std::net::IpAddr;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub problems: Vec<Finding>,
    pub checked: Checked,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Checked {
    pub pools: usize,
    pub addresses: usize,
    pub pods: usize,
}

pub async fn run(client: &Client, now: u64, expiry_slack_secs: u64) -> anyhow::Result<Report> {
    let pools = read::pools(client).await?;
    let verdict = judge(&pools);
    let held = read::addresses(client, None, None).await?;
    let pods = read::pods(client).await?;
    let snapshot = Snapshot {
        pools: &pools,
        verdict: &verdict,
        held: &held,
        pods: &pods,
    };
    let mut problems = Vec::new();
    for finding in faults::analyse(&snapshot, now, expiry_slack_secs) {
        if still_wrong(client, &pools, &finding).await? {
            problems.push(finding);
        }
    }
    problems.extend(status_counts(client, &pools).await?);
    problems.sort();
    Ok(Report {
        problems,
        checked: Checked {
            pools: pools.len(),
            addresses: held.len(),
            pods: pods.len(),
        },
    })
}

/// Whether a finding survives a direct read of what it is about.
async fn still_wrong(client: &Client, pools: &[BerthPool], f: &Finding) -> anyhow::Result<bool> {
    match f.fault {
        Fault::PodGone | Fault::ExpiredRetained => {
            let name = f.object.trim_start_matches("berthaddresses/");
            let Some(now) = read::address(client, name).await? else {
                return Ok(false);
            };
            if f.fault == Fault::ExpiredRetained {
                return Ok(true);
            }
            let pod = &now.object.spec.pod;
            let attached = now.object.spec.state == berth_kube::crd_address::AddressState::Attached;
            let live = read::pod(client, &pod.namespace, &pod.name).await?;
            Ok(attached
                && live.is_none_or(|p| {
                    !faults::same_pod(&pod.uid, p.metadata.uid.as_deref().unwrap_or_default())
                }))
        }
        Fault::UnknownPodIp | Fault::PodIpHeldByOther => {
            let (Some(path), Some(ip)) = (
                f.object.strip_prefix("pods/"),
                f.address.as_deref().and_then(|a| a.parse::<IpAddr>().ok()),
            ) else {
                return Ok(true);
            };
            let Some((namespace, name)) = path.split_once('/') else {
                return Ok(true);
            };
            let Some(pod) = read::pod(client, namespace, name).await? else {
                return Ok(false);
            };
            if !faults::pod_ips(&pod).contains(&ip) {
                return Ok(false);
            }
            let uid = pod.metadata.uid.unwrap_or_default();
            let mut holders = Vec::new();
            for pool in pools {
                let object = address_object_name(&pool.name_any(), ip);
                holders.extend(read::address(client, &object).await?);
            }
            let ours = holders.iter().any(|h| {
                let p = &h.object.spec.pod;
                p.namespace == namespace && p.name == name && faults::same_pod(&p.uid, &uid)
            });
            Ok(match f.fault {
                Fault::UnknownPodIp => holders.is_empty(),
                _ => !holders.is_empty() && !ours,
            })
        }
        // Nothing in flight makes these right: no write produces them.
        _ => Ok(true),
    }
}

/// Each pool's status against what the status writer computes from the
/// objects now; a disagreement is read again once, since every node
/// rewrites the status every `poolSyncIntervalSecs`.
async fn status_counts(client: &Client, pools: &[BerthPool]) -> anyhow::Result<Vec<Finding>> {
    let writer = PoolStatusWriter::new(client.clone());
    let api: Api<BerthPool> = Api::all(client.clone());
    let mut out = Vec::new();
    for pool in pools {
        let name = pool.name_any();
        let mut current = pool.clone();
        let mut detail = None;
        for _ in 0..2 {
            let verdict = judge(pools);
            let want = writer.compute(&current, &verdict).await?;
            detail = match &current.status {
                None => Some("no status: no berthd has counted this pool yet".to_owned()),
                Some(s) if s.allocated != want.allocated || s.total != want.total => Some(format!(
                    "status says {} allocated of {}, the objects say {} of {}",
                    s.allocated, s.total, want.allocated, want.total
                )),
                Some(s) if s.orphaned != want.orphaned => Some(format!(
                    "status counts {} orphaned address(es), the objects say {}",
                    s.orphaned, want.orphaned
                )),
                Some(_) => None,
            };
            if detail.is_none() {
                break;
            }
            match api.get_opt(&name).await? {
                Some(p) => current = p,
                None => {
                    detail = None;
                    break;
                }
            }
        }
        if let Some(detail) = detail {
            out.push(Finding {
                fault: Fault::StatusMismatch,
                object: format!("berthpools/{name}"),
                address: None,
                detail,
            });
        }
    }
    Ok(out)
}

pub fn render(report: &Report, format: Format) -> anyhow::Result<String> {
    if let Some(text) = structured(report, format)? {
        return Ok(text);
    }
    let c = report.checked;
    if report.problems.is_empty() {
        return Ok(format!(
            "No problems found ({} pools, {} addresses, {} pods checked).\n",
            c.pools, c.addresses, c.pods
        ));
    }
    let mut table = Table::new(vec!["PROBLEM", "OBJECT", "ADDRESS", "DETAIL"]);
    for f in &report.problems {
        let fault = serde_json::to_value(f.fault)?
            .as_str()
            .unwrap_or_default()
            .to_owned();
        table.row(vec![
            fault,
            f.object.clone(),
            f.address.clone().unwrap_or_else(|| "-".to_owned()),
            f.detail.clone(),
        ]);
    }
    Ok(format!(
        "{}\n{} problem(s) found ({} pools, {} addresses, {} pods checked).\n",
        table.render(),
        report.problems.len(),
        c.pools,
        c.addresses,
        c.pods
    ))
}
