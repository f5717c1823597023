//! Pool status recomputed from the BerthAddress objects, written through
//! the status subresource; pools listed from the cluster.
#![allow(clippy::unwrap_used)]

mod common;
use berth_core::record::Mutation;
use berth_core::store::Store;
use berth_kube::{pools_from_cluster, BerthPool, PoolStatusWriter};
use common::*;
use kube::Api;

/// The cells `kubectl get bpool` prints (SUBNET ALLOCATED TOTAL DEFAULT),
/// read at the CRD's printer-column JSON paths.
fn columns(pool: &serde_json::Value) -> String {
    format!(
        "{} {} {} {} {}",
        pool["metadata"]["name"].as_str().unwrap(),
        pool["spec"]["subnet"].as_str().unwrap(),
        pool["status"]["allocated"],
        pool["status"]["total"],
        pool["spec"]["default"],
    )
}

#[test]
fn seed_pool_shows_two_of_ten() {
    let c = Cluster::start();
    let seed = pool_spec("test-ippool", "10.6.0.0/16", &["10.6.168.101-10.6.168.110"]);
    let other = pool_spec("other", "10.7.0.0/24", &[]);
    c.create_pool(&seed);
    c.create_pool(&other);
    let store = c.store("node-1");
    store
        .apply(&[
            Mutation::Put(record("test-ippool", "10.6.168.101", "c1")),
            Mutation::Put(retained(record("test-ippool", "10.6.168.102", "c2"))),
            Mutation::Put(record("other", "10.7.0.9", "c3")),
        ])
        .unwrap();

    let writer = PoolStatusWriter::new(c.client());
    let status = c.rt.block_on(writer.recompute("test-ippool")).unwrap();
    assert_eq!((status.allocated, status.total), (2, 10));
    let gvr = berth_kube_standin::Gvr::new("berth.io", "v1alpha1", "berthpools");
    let stored = c.server.object(&gvr, "", "test-ippool").unwrap();
    assert_eq!(columns(&stored), "test-ippool 10.6.0.0/16 2 10 true");

    // Recomputed, not incremented: writing twice changes nothing, and a
    // release shows on the next recompute.
    c.rt.block_on(writer.recompute("test-ippool")).unwrap();
    store
        .apply(&[Mutation::Remove {
            pool: "test-ippool".into(),
            address: "10.6.168.101".parse().unwrap(),
        }])
        .unwrap();
    let all = c.rt.block_on(writer.recompute_all()).unwrap();
    let by_name: std::collections::BTreeMap<_, _> = all.into_iter().collect();
    assert_eq!(by_name["test-ippool"].allocated, 1);
    assert_eq!(
        (by_name["other"].allocated, by_name["other"].total),
        (1, 254)
    );
    let writes = c.server.counts().get("patch", "berthpools/status");
    assert_eq!(writes, 4, "one status write per recompute");
}

#[test]
fn invalid_pools_say_why_and_huge_pools_saturate() {
    let c = Cluster::start();
    c.create_pool(&pool_spec("bad", "10.8.0.1/24", &[]));
    c.create_pool(&pool_spec("huge", "fd00::/32", &[]));
    let writer = PoolStatusWriter::new(c.client());
    let bad = c.rt.block_on(writer.recompute("bad")).unwrap();
    assert!(bad.invalid.unwrap().contains("subnet"));
    let huge = c.rt.block_on(writer.recompute("huge")).unwrap();
    assert_eq!(huge.total, i64::MAX as u64);
}

#[test]
fn pools_are_listed_as_core_specs() {
    let c = Cluster::start();
    let mut seed = pool_spec("test-ippool", "10.6.0.0/16", &["10.6.168.101-10.6.168.110"]);
    seed.exclude_ips = vec!["10.6.168.105".into()];
    seed.gateway = Some("10.6.0.1".into());
    seed.routes = vec![berth_core::RouteSpec {
        dst: "10.9.0.0/16".into(),
        gw: Some("10.6.0.254".into()),
    }];
    seed.node_selector.insert("zone".into(), "a".into());
    c.create_pool(&seed);
    let pools = c.rt.block_on(pools_from_cluster(&c.client())).unwrap();
    assert_eq!(pools, vec![Ok(seed)]);
    let api: Api<BerthPool> = Api::all(c.client());
    assert_eq!(
        c.rt.block_on(api.list(&Default::default()))
            .unwrap()
            .items
            .len(),
        1
    );
}

#[test]
fn an_overlapping_later_pool_is_the_invalid_one_and_says_so() {
    let c = Cluster::start();
    c.create_pool(&pool_spec("first", "10.8.0.0/24", &[]));
    c.create_pool(&pool_spec("second", "10.8.0.0/25", &[]));
    c.create_pool(&pool_spec("typo", "10.9.0.1/24", &[]));
    let writer = PoolStatusWriter::new(c.client());
    let all: std::collections::BTreeMap<_, _> =
        c.rt.block_on(writer.recompute_all())
            .unwrap()
            .into_iter()
            .collect();
    let valid = |name: &str| {
        berth_kube::crd_pool::valid_condition(&all[name])
            .unwrap()
            .clone()
    };
    assert_eq!(valid("first").status, "True");
    assert_eq!(all["first"].total, 254);
    assert_eq!(valid("second").status, "False");
    assert!(
        valid("second").message.contains("\"first\""),
        "{:?}",
        valid("second")
    );
    assert_eq!(all["second"].total, 0);
    assert_eq!(valid("typo").reason, "Invalid");
    // A recompute that finds the same verdict keeps the transition time.
    let again = c.rt.block_on(writer.recompute("second")).unwrap();
    assert_eq!(
        berth_kube::crd_pool::valid_condition(&again)
            .unwrap()
            .last_transition_time,
        valid("second").last_transition_time
    );
}
