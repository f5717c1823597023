//! What counts as garbage: each rule reads the API server directly (the
//! `ClusterView`), and an API error always means "not garbage".

use super::{ClusterView, GcAction, GcTimes};
use crate::kube::ordinals::OwnerState;
use berth_core::record::{AddressRecord, OwnerRef, RecordState};
use berth_policy_sdk::Retention;
use berth_proto::Attachment;
use k8s_openapi::api::core::v1::{Node, Pod};
use std::fmt;

/// What a direct read says of a pod that exists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LivePod {
    /// `status.phase` ("Running", "Succeeded", ...; empty when unset).
    pub phase: String,
    /// `metadata.deletionTimestamp` in unix seconds: the end of the pod's
    /// grace period (the API server sets it to the time of the delete
    /// plus the grace period); `None` while the pod is not Terminating.
    pub deletion_deadline_unix_secs: Option<u64>,
    /// `spec.nodeName`; empty while unscheduled.
    pub node: String,
}

impl LivePod {
    pub fn of(pod: &Pod) -> Self {
        LivePod {
            phase: pod
                .status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_default(),
            deletion_deadline_unix_secs: pod
                .metadata
                .deletion_timestamp
                .as_ref()
                .map(|t| u64::try_from(t.0.as_second()).unwrap_or(0)),
            node: pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .unwrap_or_default(),
        }
    }

    /// Succeeded or Failed: terminal phases, its containers never run again.
    pub fn finished(&self) -> bool {
        matches!(self.phase.as_str(), "Succeeded" | "Failed")
    }
}

/// A node as its `Ready` condition describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeHealth {
    /// `Ready` is True.
    Ready,
    /// `Ready` is False, or Unknown (what the node lifecycle controller
    /// sets once the kubelet stops reporting).
    NotReady,
    /// No `Ready` condition: nothing is known, so it counts as Ready
    /// (never a reason to free anything, nor to adopt its records).
    Unreported,
    /// No such Node object.
    Gone,
}

impl NodeHealth {
    pub fn of(node: Option<&Node>) -> Self {
        let Some(node) = node else {
            return NodeHealth::Gone;
        };
        let ready = node
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
        match ready.map(|c| c.status.as_str()) {
            None => NodeHealth::Unreported,
            Some("True") => NodeHealth::Ready,
            Some(_) => NodeHealth::NotReady,
        }
    }

    /// NotReady or gone: its kubelet will not tear its pods down.
    pub fn is_dead(self) -> bool {
        matches!(self, NodeHealth::NotReady | NodeHealth::Gone)
    }
}

/// Why a pod that still exists will never use its address again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Zombie {
    /// Its phase is Succeeded or Failed.
    Finished { phase: String },
    /// Terminating, `terminating_grace_secs` past its grace period, on a
    /// node that is NotReady or gone.
    StuckTerminating { node: String, health: NodeHealth },
}

impl fmt::Display for Zombie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Zombie::Finished { phase } => write!(f, "pod {phase}"),
            Zombie::StuckTerminating { node, health } => write!(
                f,
                "pod Terminating past its grace period on node {node} ({})",
                match health {
                    NodeHealth::Gone => "gone",
                    _ => "NotReady",
                }
            ),
        }
    }
}

/// Whether `record` is garbage now, and what collecting it means. An API
/// error counts as "not garbage": when in doubt, keep the address.
pub(super) fn garbage(
    record: &AddressRecord,
    cluster: &dyn ClusterView,
    times: GcTimes,
    now_unix_secs: u64,
) -> Option<GcAction> {
    match (&record.state, &record.attachment) {
        (RecordState::Attached, Some(attachment)) => {
            attached(record, attachment, cluster, times, now_unix_secs)
        }
        (
            RecordState::Retained {
                expires_at_unix_secs: None,
                ..
            },
            _,
        ) => retained(record, cluster),
        _ => None,
    }
}

fn attached(
    record: &AddressRecord,
    attachment: &Attachment,
    cluster: &dyn ClusterView,
    times: GcTimes,
    now_unix_secs: u64,
) -> Option<GcAction> {
    let pod = &record.pod;
    if pod.name.is_empty() {
        return None;
    }
    let live = match cluster.pod(&pod.namespace, &pod.name, &pod.uid) {
        Ok(None) => return Some(GcAction::Release(attachment.clone())),
        Ok(Some(live)) => live,
        Err(error) => {
            tracing::warn!(%error, pod = %pod.name, "GC could not check a pod; keeping its address");
            return None;
        }
    };
    let why = zombie(&live, cluster, times, now_unix_secs)?;
    Some(GcAction::ReleaseZombie {
        attachment: attachment.clone(),
        pod: format!("{}/{}", pod.namespace, pod.name),
        why,
    })
}

/// Whether the existing pod `live` is a zombie.
fn zombie(
    live: &LivePod,
    cluster: &dyn ClusterView,
    times: GcTimes,
    now_unix_secs: u64,
) -> Option<Zombie> {
    if live.finished() {
        return Some(Zombie::Finished {
            phase: live.phase.clone(),
        });
    }
    let deadline = live.deletion_deadline_unix_secs?;
    if now_unix_secs < deadline.saturating_add(times.terminating_grace_secs) || live.node.is_empty()
    {
        return None;
    }
    match cluster.node_health(&live.node) {
        Ok(health) if health.is_dead() => Some(Zombie::StuckTerminating {
            node: live.node.clone(),
            health,
        }),
        Ok(_) => None,
        Err(error) => {
            tracing::warn!(%error, node = %live.node, "GC could not check a node; keeping the addresses of its pods");
            None
        }
    }
}

fn retained(record: &AddressRecord, cluster: &dyn ClusterView) -> Option<GcAction> {
    let identity = record.identity.as_ref()?;
    if !matches!(identity.retention, Retention::KeepUntilRetired(_)) {
        return None;
    }
    let sts = record.stateful_set.as_ref()?;
    // The owner as the pod's ownerReference named it; a record without
    // one can only have come from an apps/v1 StatefulSet of that name.
    let owner = match &record.owner {
        Some(owner) if owner.kind == "StatefulSet" && owner.name == sts.name => owner.clone(),
        _ => OwnerRef {
            kind: "StatefulSet".into(),
            name: sts.name.clone(),
            ..OwnerRef::default()
        },
    };
    match cluster.owner(&record.pod.namespace, &owner) {
        Ok(OwnerState::Live(Some(ordinals))) if ordinals.keeps(sts.ordinal) => None,
        Ok(OwnerState::Live(Some(_)) | OwnerState::Gone) => {
            Some(GcAction::Retire(identity.key.clone()))
        }
        // Running but not understood, or not readable: never retired.
        Ok(OwnerState::Live(None) | OwnerState::Unreadable) => None,
        Err(error) => {
            tracing::warn!(%error, owner = %owner.name, "GC could not check a StatefulSet; keeping");
            None
        }
    }
}
