//! The consistency rules, over one snapshot of the cluster (pure: the
//! caller reads the cluster, and re-reads before believing a finding
//! that a write in flight could explain).

use crate::read::Held;
use berth_core::admission::Admitted;
use berth_core::record::RecordState;
use berth_kube::crd_address::AddressState;
use berth_kube::BerthPool;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

use std::net::IpAddr;

/// What is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// An attached address whose pod (by UID) no longer exists.
    PodGone,
    /// A pod's IP (status.podIPs) that Berth could hand out, but holds for
    /// nobody.
    UnknownPodIp,
    /// A pod's IP that Berth holds for another pod.
    PodIpHeldByOther,
    /// An address its pool does not hand out (outside `ips`, excluded, or
    /// the pool is invalid) that the pool's status does not count as
    /// orphaned. (Ranges shrunk under held addresses are not a fault:
    /// berthd counts them in `status.orphaned` with a warning condition.)
    OutsidePool,
    /// An address of a BerthPool that no longer exists.
    PoolGone,
    /// Two objects claim one address.
    DuplicateAddress,
    /// An object berthd cannot read (it refuses to start over it).
    Malformed,
    /// A retained binding past its expiry that no node freed.
    ExpiredRetained,
    /// A pool's status counts disagree with the objects.
    StatusMismatch,
}

/// One problem: the object it concerns and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub fault: Fault,
    /// "berthaddresses/<name>", "pods/<ns>/<name>", "berthpools/<name>".
    pub object: String,
    pub address: Option<String>,
    pub detail: String,
}

/// Everything the rules read.
pub struct Snapshot<'a> {
    pub pools: &'a [BerthPool],
    pub verdict: &'a Admitted,
    pub held: &'a [Held],
    pub pods: &'a [Pod],
}

fn object(h: &Held) -> String {
    format!("berthaddresses/{}", h.name())
}

/// The rules that need no other read than the snapshot. Pool status
/// counts are compared by the caller (with the status writer's own
/// computation).
pub fn analyse(s: &Snapshot<'_>, now: u64, expiry_slack_secs: u64) -> Vec<Finding> {
    let mut out = Vec::new();
    records(s, now, expiry_slack_secs, &mut out);
    duplicates(s, &mut out);
    pods(s, &mut out);
    out.sort();
    out
}

fn records(s: &Snapshot<'_>, now: u64, slack: u64, out: &mut Vec<Finding>) {
    let pool_names: HashSet<String> = s.pools.iter().map(ResourceExt::name_any).collect();
    // Pools whose status counts every orphaned address they have now: those
    // addresses are a known, reported state, not a fault.
    let orphaned_now = crate::orphans::count(s.pools, s.verdict, s.held);
    let counted: HashSet<String> = s
        .pools
        .iter()
        .filter(|p| {
            let n = orphaned_now.get(&p.name_any()).copied().unwrap_or(0);
            n > 0 && p.status.as_ref().is_some_and(|st| st.orphaned == n)
        })
        .map(ResourceExt::name_any)
        .collect();
    // (namespace, name) → uid of every pod.
    let live: BTreeMap<(&str, &str), &str> = s
        .pods
        .iter()
        .map(|p| {
            (
                (
                    p.metadata.namespace.as_deref().unwrap_or_default(),
                    p.metadata.name.as_deref().unwrap_or_default(),
                ),
                p.metadata.uid.as_deref().unwrap_or_default(),
            )
        })
        .collect();
    for h in s.held {
        let spec = &h.object.spec;
        let address = Some(spec.address.clone());
        let mut find = |fault, detail: String| {
            out.push(Finding {
                fault,
                object: object(h),
                address: address.clone(),
                detail,
            })
        };
        let record = match &h.record {
            Ok(r) => r,
            Err(e) => {
                find(
                    Fault::Malformed,
                    format!("berthd cannot read it: {}", e.problem),
                );
                continue;
            }
        };
        if !pool_names.contains(&record.pool) {
            find(
                Fault::PoolGone,
                format!(
                    "BerthPool {} does not exist; the address stays held until it is released",
                    record.pool
                ),
            );
        } else {
            match s.verdict.valid.iter().find(|p| p.name == record.pool) {
                Some(pool)
                    if !pool.is_assignable(record.address) && !counted.contains(&record.pool) =>
                {
                    find(
                    Fault::OutsidePool,
                    format!("outside pool {}'s assignable addresses (ips minus excludeIps, gateway, network and broadcast), and its status does not count it as orphaned", record.pool),
                )
                }
                Some(_) => {}
                None => find(
                    Fault::OutsidePool,
                    format!("pool {} is invalid, so berthd does not use it", record.pool),
                ),
            }
        }
        let pod = &record.pod;
        if spec.state == AddressState::Attached
            && !pod.name.is_empty()
            && !live
                .get(&(pod.namespace.as_str(), pod.name.as_str()))
                .is_some_and(|uid| same_pod(&pod.uid, uid))
        {
            find(
                Fault::PodGone,
                format!(
                    "attached to pod {}/{} (uid {}), which no longer exists",
                    pod.namespace, pod.name, pod.uid
                ),
            );
        }
        if let RecordState::Retained {
            expires_at_unix_secs: Some(at),
            ..
        } = record.state
        {
            if at.saturating_add(slack) < now {
                find(
                    Fault::ExpiredRetained,
                    format!(
                        "retained for {} and expired {}s ago; node {} should have freed it",
                        record.identity_key().unwrap_or("no identity"),
                        now - at,
                        record.node
                    ),
                );
            }
        }
    }
}

fn duplicates(s: &Snapshot<'_>, out: &mut Vec<Finding>) {
    let mut by_address: BTreeMap<IpAddr, Vec<&Held>> = BTreeMap::new();
    for h in s.held {
        if let Ok(ip) = h.object.spec.address.parse::<IpAddr>() {
            by_address.entry(ip).or_default().push(h);
        }
    }
    for (ip, claims) in by_address.into_iter().filter(|(_, c)| c.len() > 1) {
        let names: Vec<String> = claims.iter().map(|h| h.name()).collect();
        for h in claims {
            out.push(Finding {
                fault: Fault::DuplicateAddress,
                object: object(h),
                address: Some(ip.to_string()),
                detail: format!(
                    "{ip} is claimed by {} objects: {}",
                    names.len(),
                    names.join(", ")
                ),
            });
        }
    }
}

fn pods(s: &Snapshot<'_>, out: &mut Vec<Finding>) {
    let mut holders: BTreeMap<IpAddr, Vec<&Held>> = BTreeMap::new();
    for h in s.held {
        if let Ok(ip) = h.object.spec.address.parse::<IpAddr>() {
            holders.entry(ip).or_default().push(h);
        }
    }
    for pod in s.pods {
        let Some((namespace, name, uid)) = pod_key(pod) else {
            continue;
        };
        for ip in pod_ips(pod) {
            let pool = s.verdict.valid.iter().find(|p| p.is_assignable(ip));
            let held = holders.get(&ip).map(Vec::as_slice).unwrap_or_default();
            let object = format!("pods/{namespace}/{name}");
            if held.is_empty() {
                if let Some(pool) = pool {
                    out.push(Finding {
                        fault: Fault::UnknownPodIp,
                        object,
                        address: Some(ip.to_string()),
                        detail: format!(
                            "the pod uses {ip} of pool {}, which Berth holds for nobody and may hand out again",
                            pool.name
                        ),
                    });
                }
                continue;
            }
            let ours = held.iter().any(|h| {
                let p = &h.object.spec.pod;
                p.namespace == namespace && p.name == name && same_pod(&p.uid, uid)
            });
            if !ours {
                let other = &held[0].object.spec.pod;
                out.push(Finding {
                    fault: Fault::PodIpHeldByOther,
                    object,
                    address: Some(ip.to_string()),
                    detail: format!(
                        "the pod uses {ip}, which berthaddresses/{} holds for pod {}/{} (uid {})",
                        held[0].name(),
                        other.namespace,
                        other.name,
                        other.uid
                    ),
                });
            }
        }
    }
}

/// (namespace, name, uid) of a pod whose IPs are its own: not host
/// network, not finished.
pub fn pod_key(pod: &Pod) -> Option<(&str, &str, &str)> {
    let host_network = pod
        .spec
        .as_ref()
        .and_then(|s| s.host_network)
        .unwrap_or(false);
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if host_network || matches!(phase, Some("Succeeded" | "Failed")) {
        return None;
    }
    Some((
        pod.metadata.namespace.as_deref()?,
        pod.metadata.name.as_deref()?,
        pod.metadata.uid.as_deref()?,
    ))
}

/// The addresses in `status.podIPs` (or `status.podIP`).
pub fn pod_ips(pod: &Pod) -> Vec<IpAddr> {
    let Some(status) = &pod.status else {
        return Vec::new();
    };
    let mut ips: Vec<IpAddr> = status
        .pod_ips
        .iter()
        .flatten()
        .filter_map(|p| p.ip.parse().ok())
        .collect();
    if ips.is_empty() {
        ips.extend(
            status
                .pod_ip
                .as_deref()
                .and_then(|ip| ip.parse::<IpAddr>().ok()),
        );
    }
    ips
}

/// Whether a record's pod UID names pod `uid`: a record without one (a
/// runtime that passed no K8S_POD_UID) matches by name, as berthd's GC
/// matches it.
pub fn same_pod(record_uid: &str, uid: &str) -> bool {
    record_uid.is_empty() || record_uid == uid
}

#[cfg(test)]
#[path = "faults_tests.rs"]
mod tests;
