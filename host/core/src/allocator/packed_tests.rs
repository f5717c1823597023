use super::*;
use crate::chain::{Phase, StepOutcome};
use berth_policy_sdk::{Candidate, Decision, Retention};

fn record(container_id: &str, uid: &str) -> AddressRecord {
    AddressRecord {
        pool: "big".into(),
        address: "10.64.0.7".parse().expect("address"),
        network: "bench".into(),
        attachment: Some(Attachment {
            container_id: container_id.into(),
            ifname: "eth0".into(),
        }),
        pod: PodRef {
            namespace: "ns-1".into(),
            name: "sts-5".into(),
            uid: uid.into(),
        },
        interface: "eth0".into(),
        identity: Some(Identity {
            key: "ns-1/sts/5".into(),
            retention: Retention::KeepForSecs(600),
        }),
        state: RecordState::Attached,
        node: "node-a".into(),
        owner: Some(OwnerRef {
            api_version: "apps/v1".into(),
            kind: "StatefulSet".into(),
            name: "sts".into(),
            uid: uid.into(),
        }),
        stateful_set: Some(StatefulSet {
            name: "sts".into(),
            ordinal: 5,
            replicas: Some(7),
        }),
        created_at_unix_secs: 1_700_000_000,
        trace: vec![TraceStep {
            policy: "pinned".into(),
            phase: Phase::Evaluate,
            outcome: StepOutcome::Decided(Decision::Pick(Candidate {
                pool: "big".into(),
                address: "10.64.0.7".into(),
            })),
        }],
    }
}

const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const UID: &str = "00000000-0000-4000-8000-00000000002a";

#[test]
fn every_record_comes_back_exactly() {
    let odd_ids = [
        ID,
        &ID.to_uppercase(),
        &ID[..63],
        "c1",
        "",
        "zz23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "ünïcode-container",
    ];
    let odd_uids = [
        UID,
        &UID.to_uppercase(),
        "00000000x0000-4000-8000-00000000002a",
        "000000000000-4000-8000-00000000002a-",
        "",
        "uid-1",
    ];
    for id in odd_ids {
        for uid in odd_uids {
            let r = record(id, uid);
            assert_eq!(unpack(r.address, &pack(&r)), r, "{id:?} / {uid:?}");
        }
    }
    let mut retained = record(ID, UID);
    retained.attachment = None;
    retained.owner = None;
    retained.stateful_set = None;
    retained.identity = None;
    retained.trace.clear();
    retained.state = RecordState::Retained {
        since_unix_secs: 5,
        expires_at_unix_secs: Some(65),
    };
    assert_eq!(unpack(retained.address, &pack(&retained)), retained);
    retained.state = RecordState::Retained {
        since_unix_secs: 5,
        expires_at_unix_secs: None,
    };
    assert_eq!(unpack(retained.address, &pack(&retained)), retained);
}

#[test]
fn canonical_ids_take_their_binary_size() {
    let hexed = pack(&record(ID, UID)).len();
    let plain = pack(&record(&ID.to_uppercase(), &UID.to_uppercase())).len();
    // Container id 64 → 32 bytes, two UIDs 36 → 16 bytes each (and no
    // length prefix).
    assert_eq!(plain - hexed, 33 + 2 * 21);
    // Everything a record says, address excluded, in under 200 bytes.
    assert!(hexed < 200, "{hexed} bytes");
}
