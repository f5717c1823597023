//! Garbage collection in Kubernetes mode: conservative and idempotent.
//!
//! Ownership rule: each node collects the records it handed out (the
//! record's `node`); records of a node that no longer exists are collected
//! by the live node whose name sorts first. Every node applies the same
//! rule to the same data, so exactly one node acts on a record, and a
//! second actor would only meet a precondition failure in the store.
//!
//! Nothing is freed on first sight: a record becomes a *suspect*, and only
//! when it is still a suspect `grace_secs` later *and* a direct read of the
//! API server (not a cache) confirms it, is it collected:
//!
//! * attached, and no pod with that UID exists → released as a lost DEL
//!   would have (a retained identity stays retained);
//! * retained until retired, owned by a StatefulSet that is gone or was
//!   scaled below the ordinal → the identity is retired (its hold, e.g.
//!   `holdAfterScaleDown`, starts then; expiry frees it afterwards).
//!
//! A retained binding of a live StatefulSet ordinal is never touched.

use berth_core::record::{AddressRecord, RecordState};
use berth_policy_sdk::Retention;
use berth_proto::Attachment;
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GcAction {
    /// The pod is gone: handle it like its DEL.
    Release(Attachment),
    /// The identity's owner no longer wants it.
    Retire(String),
}

/// What GC asks of the cluster. Whatever could free an address (a pod
/// gone, a StatefulSet gone or scaled down) comes from the API server
/// directly; a pod the watch cache holds counts as alive.
pub trait ClusterView {
    fn pod_exists(&self, namespace: &str, name: &str, uid: &str) -> anyhow::Result<bool>;
    /// Desired replicas, or `None` when the StatefulSet does not exist.
    fn stateful_set_replicas(&self, namespace: &str, name: &str) -> anyhow::Result<Option<u32>>;
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
        grace_secs: u64,
        now_unix_secs: u64,
    ) -> Vec<GcAction> {
        let mut still_suspect = HashMap::new();
        let mut actions = Vec::new();
        for record in records {
            if !acts_for(&record.node, me, live_nodes) {
                continue;
            }
            let Some(action) = garbage(record, cluster) else {
                continue;
            };
            let key = record.key();
            let since = self.suspects.get(&key).copied().unwrap_or(now_unix_secs);
            if now_unix_secs.saturating_sub(since) >= grace_secs && self.suspects.contains_key(&key)
            {
                // Re-check right before acting: the world may have moved.
                if garbage(record, cluster).as_ref() == Some(&action) {
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
/// handed out. Its own, and a dead node's when `me` is the live node whose
/// name sorts first — so every node, judging the same data, picks the same
/// single actor.
pub fn acts_for(node: &str, me: &str, live_nodes: &BTreeSet<String>) -> bool {
    node == me
        || (!live_nodes.contains(node) && live_nodes.iter().next().map(String::as_str) == Some(me))
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

/// Whether `record` is garbage now, and what collecting it means. An API
/// error counts as "not garbage": when in doubt, keep the address.
fn garbage(record: &AddressRecord, cluster: &dyn ClusterView) -> Option<GcAction> {
    match (&record.state, &record.attachment) {
        (RecordState::Attached, Some(attachment)) => {
            let pod = &record.pod;
            if pod.name.is_empty() {
                return None;
            }
            match cluster.pod_exists(&pod.namespace, &pod.name, &pod.uid) {
                Ok(false) => Some(GcAction::Release(attachment.clone())),
                Ok(true) => None,
                Err(error) => {
                    tracing::warn!(%error, pod = %pod.name, "GC could not check a pod; keeping its address");
                    None
                }
            }
        }
        (
            RecordState::Retained {
                expires_at_unix_secs: None,
                ..
            },
            _,
        ) => {
            let identity = record.identity.as_ref()?;
            if !matches!(identity.retention, Retention::KeepUntilRetired(_)) {
                return None;
            }
            let sts = record.stateful_set.as_ref()?;
            match cluster.stateful_set_replicas(&record.pod.namespace, &sts.name) {
                Ok(Some(replicas)) if sts.ordinal < replicas => None,
                Ok(_) => Some(GcAction::Retire(identity.key.clone())),
                Err(error) => {
                    tracing::warn!(%error, sts = %sts.name, "GC could not check a StatefulSet; keeping");
                    None
                }
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_policy_sdk::{Identity, StatefulSet};
    use berth_proto::PodRef;
    use std::cell::RefCell;

    #[derive(Default)]
    struct FakeCluster {
        pods: RefCell<Vec<String>>,
        replicas: RefCell<Option<u32>>,
        broken: bool,
    }

    impl ClusterView for FakeCluster {
        fn pod_exists(&self, _: &str, name: &str, _: &str) -> anyhow::Result<bool> {
            anyhow::ensure!(!self.broken, "API server down");
            Ok(self.pods.borrow().iter().any(|p| p == name))
        }
        fn stateful_set_replicas(&self, _: &str, _: &str) -> anyhow::Result<Option<u32>> {
            anyhow::ensure!(!self.broken, "API server down");
            Ok(*self.replicas.borrow())
        }
    }

    fn record(pod: &str, node: &str, attached: bool, ordinal: Option<u32>) -> AddressRecord {
        let last = 10 + u8::try_from(ordinal.unwrap_or(99)).unwrap_or(0);
        AddressRecord {
            pool: "p".into(),
            address: std::net::IpAddr::from([10, 0, 0, last]),
            network: "n".into(),
            attachment: attached.then(|| Attachment {
                container_id: format!("c-{pod}"),
                ifname: "eth0".into(),
            }),
            pod: PodRef {
                namespace: "default".into(),
                name: pod.into(),
                uid: "u".into(),
            },
            interface: "eth0".into(),
            identity: ordinal.map(|o| Identity {
                key: format!("default/sts/{o}"),
                retention: Retention::KeepUntilRetired(0),
            }),
            state: if attached {
                RecordState::Attached
            } else {
                RecordState::Retained {
                    since_unix_secs: 0,
                    expires_at_unix_secs: None,
                }
            },
            node: node.into(),
            owner: None,
            stateful_set: ordinal.map(|o| StatefulSet {
                name: "sts".into(),
                ordinal: o,
                replicas: None,
            }),
            created_at_unix_secs: 0,
            trace: Vec::new(),
        }
    }

    fn nodes(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_gone_pod_is_released_only_after_the_grace_and_a_recheck() {
        let cluster = FakeCluster::default();
        let records = vec![record("web-1", "a", true, None)];
        let mut gc = Collector::default();
        assert!(
            gc.pass(&records, "a", &nodes(&["a"]), &cluster, 10, 100)
                .is_empty(),
            "first sight"
        );
        assert!(
            gc.pass(&records, "a", &nodes(&["a"]), &cluster, 10, 105)
                .is_empty(),
            "inside the grace"
        );
        let actions = gc.pass(&records, "a", &nodes(&["a"]), &cluster, 10, 111);
        assert_eq!(
            actions,
            vec![GcAction::Release(
                records[0].attachment.clone().expect("attached")
            )]
        );
    }

    #[test]
    fn a_pod_that_comes_back_clears_suspicion() {
        let cluster = FakeCluster::default();
        let records = vec![record("web-1", "a", true, None)];
        let mut gc = Collector::default();
        assert!(gc
            .pass(&records, "a", &nodes(&["a"]), &cluster, 10, 100)
            .is_empty());
        cluster.pods.borrow_mut().push("web-1".into());
        assert!(gc
            .pass(&records, "a", &nodes(&["a"]), &cluster, 10, 200)
            .is_empty());
        cluster.pods.borrow_mut().clear();
        // Suspicion starts over: one more pass is not enough.
        assert!(gc
            .pass(&records, "a", &nodes(&["a"]), &cluster, 10, 300)
            .is_empty());
    }

    #[test]
    fn live_statefulset_ordinals_are_never_retired_and_scaled_away_ones_are() {
        let cluster = FakeCluster::default();
        *cluster.replicas.borrow_mut() = Some(2);
        let records = vec![
            record("sts-1", "a", false, Some(1)),
            record("sts-2", "a", false, Some(2)),
        ];
        let mut gc = Collector::default();
        for now in [100, 200, 300] {
            let actions = gc.pass(&records, "a", &nodes(&["a"]), &cluster, 10, now);
            assert!(
                !actions.contains(&GcAction::Retire("default/sts/1".into())),
                "ordinal 1 < 2 replicas"
            );
            if now == 200 {
                assert_eq!(actions, vec![GcAction::Retire("default/sts/2".into())]);
            }
        }
        // A deleted StatefulSet retires every ordinal.
        *cluster.replicas.borrow_mut() = None;
        let mut gc = Collector::default();
        gc.pass(&records, "a", &nodes(&["a"]), &cluster, 0, 1);
        assert_eq!(
            gc.pass(&records, "a", &nodes(&["a"]), &cluster, 0, 2).len(),
            2
        );
    }

    #[test]
    fn only_the_owning_node_acts_and_api_errors_keep_addresses() {
        let cluster = FakeCluster::default();
        let records = vec![
            record("web-1", "b", true, None),
            record("web-2", "gone", true, None),
        ];
        let mut on_a = Collector::default();
        let mut on_b = Collector::default();
        for now in [1, 100] {
            let a = on_a.pass(&records, "a", &nodes(&["a", "b"]), &cluster, 10, now);
            let b = on_b.pass(&records, "b", &nodes(&["a", "b"]), &cluster, 10, now);
            if now == 100 {
                // b collects its own; a (first live name) collects the gone node's.
                assert_eq!(
                    b,
                    vec![GcAction::Release(
                        records[0].attachment.clone().expect("att")
                    )]
                );
                assert_eq!(
                    a,
                    vec![GcAction::Release(
                        records[1].attachment.clone().expect("att")
                    )]
                );
            }
        }
        let broken = FakeCluster {
            broken: true,
            ..FakeCluster::default()
        };
        let mut gc = Collector::default();
        for now in [1, 100, 200] {
            assert!(gc
                .pass(&records, "b", &nodes(&["a", "b"]), &broken, 10, now)
                .is_empty());
        }
    }
}
