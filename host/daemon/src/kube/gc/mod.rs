//! Garbage collection in Kubernetes mode: conservative and idempotent.
//!
//! Ownership rule: each node collects the records it handed out (the
//! record's `node`); records of a node that is gone or NotReady are
//! collected by the live node (one that exists and is not NotReady)
//! whose name sorts first. Every node applies the same rule to the same
//! data, so one live node adopts each dead one; a NotReady node whose
//! berthd still runs also keeps acting on its own records, and of two
//! actors the second only meets a precondition failure in the store,
//! re-reads and finds nothing left to do.
//!
//! Nothing is freed on first sight: a record becomes a *suspect*, and only
//! when it is still a suspect `grace_secs` later *and* a direct read of the
//! API server (not a cache) confirms it, is it collected (`rules`):
//!
//! * attached, and no pod with that UID exists → released as a lost DEL
//!   would have (a retained identity stays retained);
//! * attached to a *zombie*: its pod is Succeeded or Failed, or has been
//!   Terminating `terminating_grace_secs` past its grace period on a node
//!   that is NotReady or gone → released the same way;
//! * retained until retired, owned by a StatefulSet (of any API group:
//!   OpenKruise's too) that is gone or no longer runs the ordinal → the
//!   identity is retired (its hold, e.g. `holdAfterScaleDown`, starts
//!   then; expiry frees it afterwards).
//!
//! A retained binding of a live StatefulSet ordinal is never touched, nor
//! one whose owner Berth cannot read (a kind discovery does not know, or
//! RBAC forbids): only an operator's release frees those.

mod rules;
#[cfg(test)]
mod tests;

pub use rules::{LivePod, NodeHealth, Zombie};

use super::ordinals::OwnerState;
use berth_core::record::{AddressRecord, OwnerRef};
use berth_proto::Attachment;
use k8s_openapi::api::core::v1::Node;
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GcAction {
    /// The pod is gone: handle it like its DEL.
    Release(Attachment),
    /// The pod (`namespace/name`) still exists but will never use its
    /// address again: handle it like its DEL.
    ReleaseZombie {
        attachment: Attachment,
        pod: String,
        why: Zombie,
    },
    /// The identity's owner no longer wants it.
    Retire(String),
}

/// What GC asks of the cluster. Whatever could free an address (a pod
/// gone, finished or terminating, an owner gone or scaled down) comes from
/// the API server directly; a pod the watch cache holds as running counts
/// as alive.
pub trait ClusterView {
    /// The pod `namespace/name` if it exists with `uid` (any UID when
    /// `uid` is empty); `None` when it is gone.
    fn pod(&self, namespace: &str, name: &str, uid: &str) -> anyhow::Result<Option<LivePod>>;
    /// Whether node `name` is Ready, NotReady or gone.
    fn node_health(&self, name: &str) -> anyhow::Result<NodeHealth>;
    /// The StatefulSet-like `owner` of pods in `namespace`, in whatever
    /// API group its ownerReference named.
    fn owner(&self, namespace: &str, owner: &OwnerRef) -> anyhow::Result<OwnerState>;
}

/// How long things must look like garbage before GC acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GcTimes {
    /// Every suspect: the time between first sight and the confirming read.
    pub grace_secs: u64,
    /// A Terminating pod on a NotReady or gone node: how long past its own
    /// grace period (its `deletionTimestamp`) before it counts as a zombie.
    pub terminating_grace_secs: u64,
}

#[derive(Debug, Default)]
pub struct Collector {
    /// Record key → when it was first seen as garbage.
    suspects: HashMap<String, u64>,
}

impl Collector {
    /// One pass over `records`; returns what to do now.
    pub fn pass(
        &mut self,
        records: &[AddressRecord],
        me: &str,
        live_nodes: &BTreeSet<String>,
        cluster: &dyn ClusterView,
        times: GcTimes,
        now_unix_secs: u64,
    ) -> Vec<GcAction> {
        let mut still_suspect = HashMap::new();
        let mut actions = Vec::new();
        let garbage = |record| rules::garbage(record, cluster, times, now_unix_secs);
        for record in records {
            if !acts_for(&record.node, me, live_nodes) {
                continue;
            }
            let Some(action) = garbage(record) else {
                continue;
            };
            let key = record.key();
            let since = self.suspects.get(&key).copied().unwrap_or(now_unix_secs);
            if now_unix_secs.saturating_sub(since) >= times.grace_secs
                && self.suspects.contains_key(&key)
            {
                // Re-check right before acting: the world may have moved.
                if garbage(record).as_ref() == Some(&action) {
                    actions.push(action);
                    continue;
                }
            }
            still_suspect.insert(key, since);
        }
        self.suspects = still_suspect;
        actions
    }
}

/// The ownership rule: whether node `me` acts on the records `node`
/// handed out. Its own, and a dead node's (gone, or NotReady: not in
/// `live_nodes`) when `me` is the live node whose name sorts first — so
/// every node, judging the same data, picks the same single adopter.
pub fn acts_for(node: &str, me: &str, live_nodes: &BTreeSet<String>) -> bool {
    node == me
        || (!live_nodes.contains(node) && live_nodes.iter().next().map(String::as_str) == Some(me))
}

/// The nodes that count as live for the ownership rule: the listed ones
/// that are not NotReady (a node without a `Ready` condition counts).
pub fn live_nodes(nodes: &[Node]) -> BTreeSet<String> {
    nodes
        .iter()
        .filter(|n| !NodeHealth::of(Some(n)).is_dead())
        .filter_map(|n| n.metadata.name.clone())
        .collect()
}

/// The dead nodes among `records`' whose records `me` has adopted.
pub fn adopted_nodes(
    records: &[AddressRecord],
    me: &str,
    live_nodes: &BTreeSet<String>,
) -> BTreeSet<String> {
    records
        .iter()
        .map(|r| r.node.as_str())
        .filter(|node| *node != me && acts_for(node, me, live_nodes))
        .map(str::to_owned)
        .collect()
}
