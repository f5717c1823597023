//! The rules on hand-made snapshots: what is a fault and what is not.

#![allow(clippy::unwrap_used)]

use super::*;
use berth_core::pool::PoolSpec;
use berth_core::record::AddressRecord;
use berth_kube::convert::{berth_address, berth_pool};
use berth_kube::pool_admission::judge;
use berth_proto::{Attachment, PodRef};
use serde_json::json;

fn pool() -> BerthPool {
    berth_pool(&PoolSpec {
        name: "p".into(),
        subnet: "10.40.0.0/16".into(),
        ips: vec!["10.40.0.10-10.40.0.19".into()],
        ..PoolSpec::default()
    })
}

fn held(address: &str, pod: &str, uid: &str) -> Held {
    let record = AddressRecord {
        pool: "p".into(),
        address: address.parse().unwrap(),
        network: "n".into(),
        attachment: Some(Attachment {
            container_id: "c".into(),
            ifname: "eth0".into(),
        }),
        pod: PodRef {
            namespace: "default".into(),
            name: pod.into(),
            uid: uid.into(),
        },
        interface: "eth0".into(),
        identity: None,
        state: RecordState::Attached,
        node: "node-a".into(),
        owner: None,
        stateful_set: None,
        created_at_unix_secs: 1,
        trace: Vec::new(),
    };
    Held::new(berth_address(&record, "node-a"))
}

fn pod(name: &str, uid: &str, ip: &str, extra: serde_json::Value) -> Pod {
    let mut pod = json!({
        "metadata": { "name": name, "namespace": "default", "uid": uid },
        "spec": { "containers": [] },
        "status": { "phase": "Running", "podIP": ip, "podIPs": [{ "ip": ip }] },
    });
    if let (Some(base), Some(more)) = (pod.as_object_mut(), extra.as_object()) {
        for (k, v) in more {
            base.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(pod).unwrap()
}

fn findings(held: &[Held], pods: &[Pod]) -> Vec<Finding> {
    let pools = [pool()];
    let verdict = judge(&pools);
    analyse(
        &Snapshot {
            pools: &pools,
            verdict: &verdict,
            held,
            pods,
        },
        1_000,
        60,
    )
}

#[test]
fn a_consistent_pod_and_record_are_no_fault() {
    let f = findings(
        &[held("10.40.0.11", "a", "u1")],
        &[pod("a", "u1", "10.40.0.11", json!({}))],
    );
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn a_record_without_pod_uid_matches_its_pod_by_name() {
    let f = findings(
        &[held("10.40.0.11", "a", "")],
        &[pod("a", "u1", "10.40.0.11", json!({}))],
    );
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn a_recreated_pod_with_the_old_address_is_held_by_another() {
    let f = findings(
        &[held("10.40.0.11", "a", "old")],
        &[pod("a", "new", "10.40.0.11", json!({}))],
    );
    let faults: Vec<Fault> = f.iter().map(|f| f.fault).collect();
    assert_eq!(faults, [Fault::PodGone, Fault::PodIpHeldByOther], "{f:?}");
}

#[test]
fn host_network_and_finished_pods_own_no_pool_address() {
    let host = pod(
        "h",
        "u2",
        "10.40.0.12",
        json!({ "spec": { "containers": [], "hostNetwork": true } }),
    );
    let mut done = pod("d", "u3", "10.40.0.13", json!({}));
    if let Some(s) = done.status.as_mut() {
        s.phase = Some("Succeeded".into());
    }
    let f = findings(&[], &[host, done]);
    assert!(f.is_empty(), "{f:?}");
    let f = findings(&[], &[pod("x", "u4", "10.40.0.14", json!({}))]);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].fault, Fault::UnknownPodIp);
}
