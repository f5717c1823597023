//! Zombie pods and NotReady nodes.

use super::*;

fn zombie(r: &AddressRecord, why: Zombie) -> GcAction {
    GcAction::ReleaseZombie {
        attachment: attachment(r),
        pod: format!("default/{}", r.pod.name),
        why,
    }
}

#[test]
fn finished_pods_are_zombies_and_running_ones_are_not() {
    let cluster = FakeCluster::default();
    cluster
        .nodes
        .borrow_mut()
        .insert("a".into(), NodeHealth::Ready);
    let records = vec![
        record("done", "a", true, None),
        record("crashed", "a", true, None),
        record("busy", "a", true, None),
        record("starting", "a", true, None),
    ];
    for (pod, phase) in [
        ("done", "Succeeded"),
        ("crashed", "Failed"),
        ("busy", "Running"),
        ("starting", "Pending"),
    ] {
        cluster.pods.borrow_mut().insert(
            pod.into(),
            LivePod {
                phase: phase.into(),
                deletion_deadline_unix_secs: None,
                node: "a".into(),
            },
        );
    }
    let live = nodes(&["a"]);
    let mut gc = Collector::default();
    assert!(gc
        .pass(&records, "a", &live, &cluster, times(10), 100)
        .is_empty());
    assert_eq!(
        gc.pass(&records, "a", &live, &cluster, times(10), 110),
        vec![
            zombie(
                &records[0],
                Zombie::Finished {
                    phase: "Succeeded".into()
                }
            ),
            zombie(
                &records[1],
                Zombie::Finished {
                    phase: "Failed".into()
                }
            ),
        ]
    );
}

/// A pod deleted with its grace period ending at `deadline`, on `node`.
fn terminating(cluster: &FakeCluster, pod: &str, node: &str, deadline: u64) {
    cluster.pods.borrow_mut().insert(
        pod.into(),
        LivePod {
            phase: "Running".into(),
            deletion_deadline_unix_secs: Some(deadline),
            node: node.into(),
        },
    );
}

#[test]
fn terminating_pods_are_zombies_only_past_both_graces_on_a_dead_node() {
    let cluster = FakeCluster::default();
    let health = [
        ("ready", NodeHealth::Ready),
        ("unreported", NodeHealth::Unreported),
        ("down", NodeHealth::NotReady),
    ];
    cluster
        .nodes
        .borrow_mut()
        .extend(health.map(|(n, h)| (n.to_string(), h)));
    // Every pod's grace period ends at 1000; node "vanished" is gone.
    let on = ["ready", "unreported", "down", "vanished"];
    let records: Vec<_> = on
        .iter()
        .map(|node| record(&format!("p-{node}"), "a", true, None))
        .collect();
    for node in on {
        terminating(&cluster, &format!("p-{node}"), node, 1000);
    }
    let times = GcTimes {
        grace_secs: 10,
        terminating_grace_secs: 60,
    };
    let live = nodes(&["a"]);
    let mut gc = Collector::default();
    let mut acted = Vec::new();
    for now in (990..=1100).step_by(5) {
        // Once acted on, a record would be gone from the store.
        for action in gc.pass(&records, "a", &live, &cluster, times, now) {
            if !acted.iter().any(|(_, a)| *a == action) {
                acted.push((now, action));
            }
        }
    }
    // Suspect from 1060 (deadline + terminating grace), acted on at 1070
    // (+ grace); pods on the Ready and unreported nodes are left alone.
    let expected = vec![
        (
            1070,
            zombie(
                &records[2],
                Zombie::StuckTerminating {
                    node: "down".into(),
                    health: NodeHealth::NotReady,
                },
            ),
        ),
        (
            1070,
            zombie(
                &records[3],
                Zombie::StuckTerminating {
                    node: "vanished".into(),
                    health: NodeHealth::Gone,
                },
            ),
        ),
    ];
    assert_eq!(acted, expected);
}

#[test]
fn a_node_that_recovers_or_cannot_be_read_keeps_its_pods_addresses() {
    let cluster = FakeCluster::default();
    cluster
        .nodes
        .borrow_mut()
        .insert("down".into(), NodeHealth::NotReady);
    let records = vec![record("p", "a", true, None)];
    terminating(&cluster, "p", "down", 0);
    let live = nodes(&["a"]);
    let mut gc = Collector::default();
    assert!(gc
        .pass(&records, "a", &live, &cluster, times(10), 100)
        .is_empty());
    // Ready again before the confirming read: nothing happens, and
    // suspicion starts over.
    cluster
        .nodes
        .borrow_mut()
        .insert("down".into(), NodeHealth::Ready);
    assert!(gc
        .pass(&records, "a", &live, &cluster, times(10), 110)
        .is_empty());
    cluster
        .nodes
        .borrow_mut()
        .insert("down".into(), NodeHealth::NotReady);
    assert!(gc
        .pass(&records, "a", &live, &cluster, times(10), 120)
        .is_empty());
    let unreadable = FakeCluster {
        nodes_broken: true,
        ..FakeCluster::default()
    };
    terminating(&unreadable, "p", "down", 0);
    let mut gc = Collector::default();
    for now in [100, 200, 300] {
        assert!(gc
            .pass(&records, "a", &live, &unreadable, times(10), now)
            .is_empty());
    }
}

fn node(name: &str, ready: Option<&str>) -> k8s_openapi::api::core::v1::Node {
    let conditions = ready.map(|status| {
        serde_json::json!([
            { "type": "MemoryPressure", "status": "False" },
            { "type": "Ready", "status": status },
        ])
    });
    serde_json::from_value(serde_json::json!({
        "metadata": { "name": name },
        "status": { "conditions": conditions },
    }))
    .expect("a Node")
}

#[test]
fn not_ready_nodes_are_adopted_like_gone_ones() {
    let listed = [
        node("a", Some("Unknown")),
        node("b", Some("True")),
        node("c", Some("False")),
        node("d", None),
    ];
    assert_eq!(
        listed
            .iter()
            .map(|n| NodeHealth::of(Some(n)))
            .collect::<Vec<_>>(),
        [
            NodeHealth::NotReady,
            NodeHealth::Ready,
            NodeHealth::NotReady,
            NodeHealth::Unreported
        ]
    );
    assert_eq!(NodeHealth::of(None), NodeHealth::Gone);
    let live = live_nodes(&listed);
    assert_eq!(live, nodes(&["b", "d"]));
    // "a" sorts first but is NotReady: "b" adopts a's and c's records;
    // a NotReady node still acts on its own.
    let records = vec![
        record("on-a", "a", true, None),
        record("on-c", "c", true, None),
        record("on-d", "d", true, None),
    ];
    assert_eq!(adopted_nodes(&records, "b", &live), nodes(&["a", "c"]));
    assert!(adopted_nodes(&records, "d", &live).is_empty());
    assert!(acts_for("a", "a", &live));
}

#[test]
fn live_pod_reads_phase_deadline_and_node() {
    let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "p", "deletionTimestamp": "2024-01-01T00:00:30Z" },
        "spec": { "nodeName": "n1", "containers": [] },
        "status": { "phase": "Running" },
    }))
    .expect("a Pod");
    assert_eq!(
        LivePod::of(&pod),
        LivePod {
            phase: "Running".into(),
            deletion_deadline_unix_secs: Some(1_704_067_230),
            node: "n1".into(),
        }
    );
}
