//! One BerthAddress per address a SpiderEndpoint holds.
//!
//! The record is what berthd would have written had it made the
//! allocation: bound to the identity the default policy states for the
//! pod (`StickyStatefulSet::identify`, with the settings in Berth's
//! config), attached while the pod runs, retained (as its retention says)
//! when a StatefulSet pod is away. Its network name is one no CNI config
//! uses ([`MIGRATED_NETWORK`]), so no node's CNI GC mistakes it for a
//! container it no longer runs; the pod's first ADD through Berth
//! re-binds it (sticky identities) or the cluster GC frees it once the
//! pod is gone.

use super::model::{Inputs, Plan, Targets, Workload};
use super::spider::SpiderEndpoint;
use crate::limits::{MIGRATED_NETWORK, MIGRATION_TRACE_POLICY};
use berth_core::chain::{Phase, StepOutcome, TraceStep};
use berth_core::pool::family_of;
use berth_core::record::{AddressRecord, OwnerRef, RecordState};
use berth_policy_sdk::{Candidate, Decision, Identity, Policy, Request, Retention};
use berth_proto::{Attachment, PodRef};
use kube::ResourceExt;
use std::collections::BTreeMap;
use std::net::IpAddr;
use sticky_statefulset::{Settings, StickyStatefulSet};

pub fn addresses(inputs: &Inputs<'_>, targets: &Targets, plan: &mut Plan) {
    let mut endpoints: Vec<&SpiderEndpoint> = inputs.endpoints.iter().collect();
    endpoints.sort_by_key(|e| (e.namespace().unwrap_or_default(), e.name_any()));
    // (pool, address) → "namespace/pod" of the endpoint claiming it.
    let mut claimed: BTreeMap<(String, IpAddr), String> = BTreeMap::new();
    for ep in endpoints {
        let (namespace, name) = (ep.namespace().unwrap_or_default(), ep.name_any());
        let object = format!("spiderendpoint/{namespace}/{name}");
        let Some(status) = &ep.status else {
            plan.note(&object, "has no status (no allocation): nothing to migrate");
            continue;
        };
        let workload = inputs
            .workloads
            .get(&(namespace.clone(), name.clone()))
            .cloned()
            .unwrap_or_default();
        for detail in &status.current.ips {
            let families = [
                (&detail.ipv4, &detail.ipv4_pool),
                (&detail.ipv6, &detail.ipv6_pool),
            ];
            for (ip, pool) in families {
                let Some(ip) = ip else { continue };
                let Some(address) = ip.split('/').next().and_then(|a| a.parse::<IpAddr>().ok())
                else {
                    plan.conflict(
                        Some(ip.clone()),
                        &object,
                        format!("{ip:?} is not an address"),
                    );
                    continue;
                };
                let Some(pool) = pool else {
                    plan.conflict(
                        Some(address.to_string()),
                        &object,
                        "names no pool for the address",
                    );
                    continue;
                };
                let Some(target) = targets.get(pool) else {
                    plan.note(
                        &object,
                        format!("{address}: pool {pool} is not migrated (see above)"),
                    );
                    continue;
                };
                if !target.is_assignable(address) {
                    plan.conflict(
                        Some(address.to_string()),
                        &object,
                        format!("outside the addresses BerthPool {pool} hands out"),
                    );
                    continue;
                }
                let pod = PodRef {
                    namespace: namespace.clone(),
                    name: name.clone(),
                    uid: status.current.uid.clone(),
                };
                if let Some(other) =
                    claimed.insert((pool.clone(), address), format!("{namespace}/{name}"))
                {
                    plan.conflict(
                        Some(address.to_string()),
                        &object,
                        format!("also claimed by SpiderEndpoint {other}"),
                    );
                    continue;
                }
                let identity = inputs
                    .sticky
                    .and_then(|s| identity(s, &pod, &detail.interface, address, &workload));
                let Some(state) = state(&workload, identity.as_ref(), inputs.now) else {
                    plan.note(
                        &object,
                        format!("{address}: the pod is gone and keeps no identity: Spiderpool frees it, not migrated"),
                    );
                    continue;
                };
                let record = AddressRecord {
                    pool: pool.clone(),
                    address,
                    network: MIGRATED_NETWORK.to_owned(),
                    attachment: matches!(state, RecordState::Attached).then(|| Attachment {
                        container_id: format!("spiderpool-{}", pod.uid),
                        ifname: detail.interface.clone(),
                    }),
                    pod,
                    interface: detail.interface.clone(),
                    trace: trace(identity.as_ref(), pool, address),
                    identity,
                    state,
                    node: status.current.node.clone(),
                    // No apiVersion: read as `apps/v1`, the API of the
                    // StatefulSets and Deployments this migration reads.
                    owner: workload.owner.as_ref().map(|o| OwnerRef {
                        api_version: String::new(),
                        kind: o.kind.clone(),
                        name: o.name.clone(),
                        uid: o.uid.clone(),
                    }),
                    stateful_set: workload.stateful_set.clone(),
                    created_at_unix_secs: inputs.now,
                };
                if let Err(problem) = record.check_shape() {
                    plan.conflict(Some(address.to_string()), &object, problem);
                    continue;
                }
                super::holders::against_berth(inputs, record, plan);
            }
        }
    }
    super::holders::allocated_ips(inputs, targets, &claimed, plan);
}

/// The identity the default policy states for this pod.
fn identity(
    settings: &Settings,
    pod: &PodRef,
    interface: &str,
    address: IpAddr,
    workload: &Workload,
) -> Option<Identity> {
    let request = Request {
        namespace: pod.namespace.clone(),
        pod_name: pod.name.clone(),
        pod_uid: pod.uid.clone(),
        container_id: String::new(),
        labels: Vec::new(),
        annotations: Vec::new(),
        node: String::new(),
        interface: interface.to_owned(),
        family: family_of(&address),
        owner: workload.owner.clone(),
        stateful_set: workload.stateful_set.clone(),
        pools: Vec::new(),
        identity: None,
        bindings: Vec::new(),
        candidates: Vec::new(),
        free_total: 0,
        requested: None,
        seed: 0,
        now_unix_secs: 0,
    };
    StickyStatefulSet::identify(settings, &request)
}

/// Attached while the pod runs; retained as a DEL would retain it when
/// the pod is away; `None` when a DEL would have freed it.
fn state(workload: &Workload, identity: Option<&Identity>, now: u64) -> Option<RecordState> {
    if workload.running {
        return Some(RecordState::Attached);
    }
    let expires_at_unix_secs = match identity?.retention {
        Retention::ReleaseOnDelete | Retention::KeepForSecs(0) => return None,
        Retention::KeepForSecs(s) => Some(now.saturating_add(s)),
        Retention::KeepUntilRetired(_) => None,
    };
    Some(RecordState::Retained {
        since_unix_secs: now,
        expires_at_unix_secs,
    })
}

/// The trace `explain` shows: who named the identity, and that the
/// address came from Spiderpool.
fn trace(identity: Option<&Identity>, pool: &str, address: IpAddr) -> Vec<TraceStep> {
    let mut steps = Vec::new();
    if let Some(id) = identity {
        steps.push(TraceStep {
            policy: StickyStatefulSet::NAME.to_owned(),
            phase: Phase::Identify,
            outcome: StepOutcome::Identified(Some(id.clone())),
        });
    }
    steps.push(TraceStep {
        policy: MIGRATION_TRACE_POLICY.to_owned(),
        phase: Phase::Evaluate,
        outcome: StepOutcome::Decided(Decision::Pick(Candidate {
            pool: pool.to_owned(),
            address: address.to_string(),
        })),
    });
    steps
}
