//! GC's rules against a fake cluster: the collector's grace and re-check,
//! ownership, and (in the submodules) zombies and owners of any group.

mod owners;
mod zombies;

use super::*;
use crate::kube::ordinals::Ordinals;
use berth_core::record::RecordState;
use berth_policy_sdk::{Identity, Retention, StatefulSet};
use berth_proto::PodRef;
use std::cell::RefCell;

#[derive(Default)]
struct FakeCluster {
    /// Pod name → what a read of it says.
    pods: RefCell<HashMap<String, LivePod>>,
    /// Node name → health; a node not listed is gone.
    nodes: RefCell<HashMap<String, NodeHealth>>,
    /// What a read of any owner says (gone when unset).
    owner: RefCell<Option<OwnerState>>,
    /// Every owner GC asked about.
    asked: RefCell<Vec<OwnerRef>>,
    broken: bool,
    nodes_broken: bool,
}

impl FakeCluster {
    fn running(&self, pod: &str, node: &str) {
        self.pods.borrow_mut().insert(
            pod.into(),
            LivePod {
                phase: "Running".into(),
                deletion_deadline_unix_secs: None,
                node: node.into(),
            },
        );
    }
}

impl ClusterView for FakeCluster {
    fn pod(&self, _: &str, name: &str, _: &str) -> anyhow::Result<Option<LivePod>> {
        anyhow::ensure!(!self.broken, "API server down");
        Ok(self.pods.borrow().get(name).cloned())
    }
    fn node_health(&self, name: &str) -> anyhow::Result<NodeHealth> {
        anyhow::ensure!(!self.broken && !self.nodes_broken, "API server down");
        Ok(self
            .nodes
            .borrow()
            .get(name)
            .copied()
            .unwrap_or(NodeHealth::Gone))
    }
    fn owner(&self, _: &str, owner: &OwnerRef) -> anyhow::Result<OwnerState> {
        anyhow::ensure!(!self.broken, "API server down");
        self.asked.borrow_mut().push(owner.clone());
        Ok(self.owner.borrow().clone().unwrap_or(OwnerState::Gone))
    }
}

/// A record of `pod` handed out by `node`: attached, or retained for a
/// StatefulSet ordinal. Each pod name gets its own address.
fn record(pod: &str, node: &str, attached: bool, ordinal: Option<u32>) -> AddressRecord {
    let last = pod
        .bytes()
        .fold(7u8, |h, b| h.wrapping_mul(31).wrapping_add(b));
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

fn replicas(n: u32) -> OwnerState {
    OwnerState::Live(Some(Ordinals {
        replicas: n,
        ..Ordinals::default()
    }))
}

fn nodes(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn times(grace_secs: u64) -> GcTimes {
    GcTimes {
        grace_secs,
        terminating_grace_secs: 0,
    }
}

fn attachment(r: &AddressRecord) -> Attachment {
    r.attachment.clone().expect("attached")
}

#[test]
fn a_gone_pod_is_released_only_after_the_grace_and_a_recheck() {
    let cluster = FakeCluster::default();
    let records = vec![record("web-1", "a", true, None)];
    let mut gc = Collector::default();
    let live = nodes(&["a"]);
    let mut pass = |now| gc.pass(&records, "a", &live, &cluster, times(10), now);
    assert!(pass(100).is_empty(), "first sight");
    assert!(pass(105).is_empty(), "inside the grace");
    assert_eq!(pass(111), vec![GcAction::Release(attachment(&records[0]))]);
}

#[test]
fn a_pod_that_comes_back_clears_suspicion() {
    let cluster = FakeCluster::default();
    let records = vec![record("web-1", "a", true, None)];
    let mut gc = Collector::default();
    let live = nodes(&["a"]);
    assert!(gc
        .pass(&records, "a", &live, &cluster, times(10), 100)
        .is_empty());
    cluster.running("web-1", "a");
    assert!(gc
        .pass(&records, "a", &live, &cluster, times(10), 200)
        .is_empty());
    cluster.pods.borrow_mut().clear();
    // Suspicion starts over: one more pass is not enough.
    assert!(gc
        .pass(&records, "a", &live, &cluster, times(10), 300)
        .is_empty());
}

#[test]
fn live_statefulset_ordinals_are_never_retired_and_scaled_away_ones_are() {
    let cluster = FakeCluster::default();
    *cluster.owner.borrow_mut() = Some(replicas(2));
    let records = vec![
        record("sts-1", "a", false, Some(1)),
        record("sts-2", "a", false, Some(2)),
    ];
    let live = nodes(&["a"]);
    let mut gc = Collector::default();
    for now in [100, 200, 300] {
        let actions = gc.pass(&records, "a", &live, &cluster, times(10), now);
        assert!(
            !actions.contains(&GcAction::Retire("default/sts/1".into())),
            "ordinal 1 < 2 replicas"
        );
        if now == 200 {
            assert_eq!(actions, vec![GcAction::Retire("default/sts/2".into())]);
        }
    }
    // A deleted StatefulSet retires every ordinal.
    *cluster.owner.borrow_mut() = None;
    let mut gc = Collector::default();
    gc.pass(&records, "a", &live, &cluster, times(0), 1);
    assert_eq!(
        gc.pass(&records, "a", &live, &cluster, times(0), 2).len(),
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
    let live = nodes(&["a", "b"]);
    let mut on_a = Collector::default();
    let mut on_b = Collector::default();
    for now in [1, 100] {
        let a = on_a.pass(&records, "a", &live, &cluster, times(10), now);
        let b = on_b.pass(&records, "b", &live, &cluster, times(10), now);
        if now == 100 {
            // b collects its own; a (first live name) collects the gone node's.
            assert_eq!(b, vec![GcAction::Release(attachment(&records[0]))]);
            assert_eq!(a, vec![GcAction::Release(attachment(&records[1]))]);
        }
    }
    let broken = FakeCluster {
        broken: true,
        ..FakeCluster::default()
    };
    let mut gc = Collector::default();
    for now in [1, 100, 200] {
        assert!(gc
            .pass(&records, "b", &live, &broken, times(10), now)
            .is_empty());
    }
}
