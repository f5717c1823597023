//! Conversions: BerthPool → PoolSpec, AddressRecord ↔ BerthAddress, the
//! object names and labels, and refusal of tampered objects.
#![allow(clippy::unwrap_used)]

mod common;
use berth_core::chain::{Phase, StepOutcome, TraceStep};
use berth_core::OwnerRef;
use berth_kube::convert::{address_record, berth_address, berth_pool, pool_spec};
use berth_kube::names::{self, is_dns_subdomain};
use berth_policy_sdk::{Decision, Identity, Retention, StatefulSet};
use common::*;

#[test]
fn pool_spec_round_trips() {
    let mut spec = pool_spec_fixture();
    spec.namespace_selector.insert("team".into(), "db".into());
    spec.clean_gateway = true;
    spec.dns.nameservers = vec!["10.6.0.53".into()];
    spec.dns.search = vec!["svc.example".into()];
    let back = pool_spec(&berth_pool(&spec)).unwrap();
    assert_eq!(back, spec);
}

fn pool_spec_fixture() -> berth_core::PoolSpec {
    let mut s = common::pool_spec("test-ippool", "10.6.0.0/16", &["10.6.168.101-10.6.168.110"]);
    s.exclude_ips = vec!["10.6.168.105".into()];
    s
}

#[test]
fn records_round_trip_through_objects() {
    let mut full = with_identity(
        record("test-ippool", "10.6.168.101", "c1"),
        "default/test-sts/0",
    );
    full.owner = Some(OwnerRef {
        api_version: "apps.kruise.io/v1beta1".into(),
        kind: "StatefulSet".into(),
        name: "test-sts".into(),
        uid: "u-1".into(),
    });
    full.stateful_set = Some(StatefulSet {
        name: "test-sts".into(),
        ordinal: 0,
        replicas: Some(2),
    });
    full.trace = vec![
        TraceStep {
            policy: "sticky-statefulset".into(),
            phase: Phase::Identify,
            outcome: StepOutcome::Identified(Some(Identity {
                key: "default/test-sts/0".into(),
                retention: Retention::KeepUntilRetired(300),
            })),
        },
        TraceStep {
            policy: "sticky-statefulset".into(),
            phase: Phase::Evaluate,
            outcome: StepOutcome::Decided(Decision::Abstain),
        },
    ];
    let mut keep_for = retained(record("v6pool", "fd00::1:5", "c2"));
    keep_for.identity = Some(Identity {
        key: "ns/app/1".into(),
        retention: Retention::KeepForSecs(60),
    });
    for r in [full, keep_for, record("p", "10.0.0.1", "c3")] {
        let obj = berth_address(&r, "node-1");
        assert!(is_dns_subdomain(obj.metadata.name.as_deref().unwrap()));
        // Through JSON, as the API server stores it.
        let json = serde_json::to_string(&obj).unwrap();
        let back = address_record(&serde_json::from_str(&json).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}

#[test]
fn objects_carry_selection_labels() {
    let r = with_identity(
        record("test-ippool", "10.6.168.101", "c1"),
        "default/test-sts/0",
    );
    let obj = berth_address(&r, "node-9");
    let labels = obj.metadata.labels.unwrap();
    assert_eq!(labels[names::LABEL_POOL], "test-ippool");
    assert_eq!(
        labels[names::LABEL_NODE],
        "node-1",
        "the record's node, not the writer"
    );
    assert_eq!(
        labels[names::LABEL_IDENTITY_HASH],
        names::identity_hash("default/test-sts/0")
    );
    assert_eq!(labels[names::LABEL_POD_UID], r.pod.uid);
    assert_eq!(obj.metadata.name.unwrap(), "test-ippool.10-6-168-101");
}

#[test]
fn tampered_objects_are_refused_by_name() {
    let r = record("p", "10.0.0.1", "c1");
    let mut renamed = berth_address(&r, "n");
    renamed.metadata.name = Some("p.10-0-0-2".into());
    let e = address_record(&renamed).unwrap_err();
    assert_eq!(e.name, "p.10-0-0-2");

    let mut retained_without_since = berth_address(&retained(r.clone()), "n");
    retained_without_since.spec.retained_since_unix_secs = None;
    assert!(address_record(&retained_without_since).is_err());

    let mut attached_without_attachment = berth_address(&r, "n");
    attached_without_attachment.spec.attachment = None;
    assert!(address_record(&attached_without_attachment).is_err());

    let mut bad_address = berth_address(&r, "n");
    bad_address.spec.address = "10.0.0.300".into();
    assert!(address_record(&bad_address).is_err());

    let mut long_key = berth_address(&with_identity(r, "k"), "n");
    long_key.spec.identity.as_mut().unwrap().key = "k".repeat(300);
    assert!(address_record(&long_key).is_err());
}

#[test]
fn names_are_valid_for_v4_and_v6() {
    for addr in [
        "10.6.168.101",
        "0.0.0.0",
        "255.255.255.255",
        "fd00::1",
        "::",
        "::1",
        "fe80::",
        "2001:db8::ffff:1.2.3.4",
    ] {
        let ip = addr.parse().unwrap();
        let n = names::address_object_name("test-ippool", ip);
        assert!(is_dns_subdomain(&n), "{addr}: {n}");
        let label = n.strip_prefix("test-ippool.").unwrap();
        assert_eq!(names::address_from_label(label), Some(ip), "{addr}");
    }
}
