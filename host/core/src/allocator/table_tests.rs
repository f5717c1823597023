use super::*;
use crate::record::RecordState;
use berth_proto::PodRef;

fn record(address: &str, container: &str) -> AddressRecord {
    AddressRecord {
        pool: "p".into(),
        address: address.parse().expect("address"),
        network: "n".into(),
        attachment: Some(Attachment {
            container_id: container.into(),
            ifname: "eth0".into(),
        }),
        pod: PodRef {
            namespace: "ns".into(),
            name: format!("pod-{container}"),
            uid: format!("uid-{container}"),
        },
        interface: "eth0".into(),
        identity: None,
        state: RecordState::Attached,
        node: String::new(),
        owner: None,
        stateful_set: None,
        created_at_unix_secs: 1,
        trace: Vec::new(),
    }
}

#[test]
fn records_survive_compaction_exactly() {
    let mut table = RecordTable::default();
    let all: Vec<AddressRecord> = (0..4000u32)
        .map(|i| record(&format!("10.1.{}.{}", i / 250, i % 250), &format!("c{i}")))
        .collect();
    for r in &all {
        table.insert(r);
    }
    let full_slab = table.slab.len();
    // Remove three of every four: the slab must be rewritten on the way.
    for r in all.iter().filter(|r| !r.pod.name.ends_with('0')) {
        assert_eq!(table.remove(&r.address).as_ref(), Some(r));
        assert!(table.get(&r.address).is_none());
    }
    assert!(
        table.slab.len() < full_slab / 2,
        "never compacted: {} of {full_slab} bytes",
        table.slab.len()
    );
    for r in all.iter().filter(|r| r.pod.name.ends_with('0')) {
        assert_eq!(table.get(&r.address).as_ref(), Some(r));
        let att = r.attachment.as_ref().expect("attached");
        assert_eq!(table.of_attachment(att), vec![r.clone()]);
    }
    assert_eq!(table.values().count(), all.len() / 10);
}

#[test]
fn an_attachment_holds_one_address_per_family_and_lets_each_go() {
    let mut table = RecordTable::default();
    let v4 = record("10.0.0.1", "dual");
    let v6 = record("fd00::1", "dual");
    let other = record("10.0.0.2", "other");
    for r in [&v4, &v6, &other] {
        table.insert(r);
    }
    let att = v4.attachment.clone().expect("attached");
    let mut both = table.of_attachment(&att);
    both.sort_by_key(|r| r.address);
    assert_eq!(both, vec![v4.clone(), v6.clone()]);
    assert_eq!(table.remove(&v4.address), Some(v4));
    assert_eq!(table.of_attachment(&att), vec![v6.clone()]);
    assert_eq!(table.remove(&v6.address), Some(v6));
    assert!(table.of_attachment(&att).is_empty());
    assert_eq!(
        table.attachment_index(),
        vec![(
            attachment_hash(other.attachment.as_ref().expect("attached")),
            vec![other.address]
        )]
    );
}

#[test]
fn index_entries_stay_small() {
    // One of each per held address: 28 and 32 bytes, not 40 and 40.
    assert!(std::mem::size_of::<(IpAddr, Span)>() <= 28);
    assert!(std::mem::size_of::<(u64, Holders)>() <= 32);
}
