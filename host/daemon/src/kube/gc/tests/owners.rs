//! StatefulSet-like owners of any API group.

use super::*;

fn kruise_owned(mut r: AddressRecord) -> AddressRecord {
    r.owner = Some(OwnerRef {
        api_version: "apps.kruise.io/v1beta1".into(),
        kind: "StatefulSet".into(),
        name: "sts".into(),
        uid: "k-1".into(),
    });
    r
}

#[test]
fn owners_are_read_in_the_group_their_reference_named() {
    let cluster = FakeCluster::default();
    *cluster.owner.borrow_mut() = Some(replicas(1));
    let records = vec![
        kruise_owned(record("sts-0", "a", false, Some(0))),
        // Written before the owner's apiVersion was kept.
        record("legacy-0", "a", false, Some(0)),
    ];
    let mut gc = Collector::default();
    gc.pass(&records, "a", &nodes(&["a"]), &cluster, times(0), 1);
    let asked = cluster.asked.borrow();
    assert_eq!(asked[0].api_version, "apps.kruise.io/v1beta1");
    assert_eq!(
        (asked[0].group(), asked[0].version()),
        ("apps.kruise.io", "v1beta1")
    );
    assert_eq!((asked[1].group(), asked[1].version()), ("apps", "v1"));
    assert_eq!(asked[1].name, "sts");
}

#[test]
fn owners_that_cannot_be_read_or_understood_never_retire() {
    let records = vec![
        kruise_owned(record("sts-0", "a", false, Some(0))),
        kruise_owned(record("sts-5", "a", false, Some(5))),
    ];
    for state in [OwnerState::Unreadable, OwnerState::Live(None)] {
        let cluster = FakeCluster::default();
        *cluster.owner.borrow_mut() = Some(state.clone());
        let mut gc = Collector::default();
        for now in [1, 100, 1_000, 10_000] {
            assert!(
                gc.pass(&records, "a", &nodes(&["a"]), &cluster, times(0), now)
                    .is_empty(),
                "{state:?} retired something"
            );
        }
    }
}

#[test]
fn ordinals_past_replicas_that_the_owner_runs_are_kept() {
    // replicas 2 from ordinal 5: pods 5 and 6 run, 0 and 7 do not.
    let cluster = FakeCluster::default();
    *cluster.owner.borrow_mut() = Some(OwnerState::Live(Some(Ordinals {
        replicas: 2,
        start: 5,
        reserved: Vec::new(),
    })));
    let records: Vec<_> = [0, 5, 6, 7]
        .map(|o| kruise_owned(record(&format!("sts-{o}"), "a", false, Some(o))))
        .into();
    let mut gc = Collector::default();
    gc.pass(&records, "a", &nodes(&["a"]), &cluster, times(0), 1);
    assert_eq!(
        gc.pass(&records, "a", &nodes(&["a"]), &cluster, times(0), 2),
        vec![
            GcAction::Retire("default/sts/0".into()),
            GcAction::Retire("default/sts/7".into())
        ]
    );
}
