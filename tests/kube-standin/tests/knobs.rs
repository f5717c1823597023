//! Concurrency, counters, injected latency and faults, and use from a sync test.
#![allow(clippy::unwrap_used)]

mod common;
use berth_kube_standin::{ApiServer, Fault, StartError};
use common::*;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::Api;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_creates_of_one_name_one_wins() {
    let s = server();
    let client = s.client().unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let api: Api<Pod> = Api::namespaced(client.clone(), "default");
            tokio::spawn(async move {
                let p = pod("same", &[("attempt", &i.to_string())], None);
                api.create(&PostParams::default(), &p).await
            })
        })
        .collect();
    let mut ok = 0;
    let mut conflicts = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(kube::Error::Api(st)) if st.code == 409 && st.reason == "AlreadyExists" => {
                conflicts += 1
            }
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!((ok, conflicts), (1, 49));
    assert_eq!(s.counts().get("create", "pods"), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_replaces_from_one_version_one_wins() {
    let s = server();
    let client = s.client().unwrap();
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    let base = api
        .create(&PostParams::default(), &pod("p", &[], None))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let api = api.clone();
            let mut p = base.clone();
            p.metadata.labels = Some([("w".to_string(), i.to_string())].into());
            tokio::spawn(async move { api.replace("p", &PostParams::default(), &p).await })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(kube::Error::Api(st)) => {
                assert_eq!((st.code, st.reason.as_str()), (409, "Conflict"))
            }
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn counters_by_verb_and_resource() {
    let s = server();
    let pods: Api<Pod> = Api::namespaced(s.client().unwrap(), "default");
    let pp = PostParams::default();
    pods.create(&pp, &pod("a", &[], None)).await.unwrap();
    pods.get("a").await.unwrap();
    pods.list(&Default::default()).await.unwrap();
    pods.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"k": "v"}}})),
    )
    .await
    .unwrap();
    pods.patch_status(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"podIP": "10.0.0.1"}})),
    )
    .await
    .unwrap();
    pods.delete("a", &DeleteParams::default()).await.unwrap();
    pools(s.client().unwrap())
        .create(&pp, &pool("x", "10.0.0.0/24"))
        .await
        .unwrap();
    let c = s.counts();
    for verb in ["create", "get", "list", "patch", "delete"] {
        assert_eq!(c.get(verb, "pods"), 1, "{verb}");
    }
    assert_eq!(c.get("patch", "pods/status"), 1);
    assert_eq!(c.writes("pods"), 4, "create, patch, patch status, delete");
    assert_eq!(c.get("create", "berthpools"), 1);
    assert_eq!(c.total_writes(), 5);
    assert_eq!(c.total(), 7);
    s.reset_counts();
    assert_eq!(s.counts().total(), 0);
}

#[tokio::test]
async fn injected_latency_is_observable() {
    let s = server();
    let pods: Api<Pod> = Api::namespaced(s.client().unwrap(), "default");
    pods.list(&Default::default()).await.unwrap(); // warm the connection
    s.set_latency(Duration::from_millis(50));
    let t = Instant::now();
    for _ in 0..3 {
        pods.list(&Default::default()).await.unwrap();
    }
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t.elapsed()
    );
    s.set_latency(Duration::ZERO);
}

#[tokio::test]
async fn injected_faults_fail_the_next_writes_only() {
    let s = server();
    let pods: Api<Pod> = Api::namespaced(s.client().unwrap(), "default");
    let pp = PostParams::default();
    s.fail_next_writes("pods", 2, Fault::Conflict);
    assert_eq!(
        api_err(pods.create(&pp, &pod("a", &[], None)).await),
        (409, "Conflict".into())
    );
    pods.list(&Default::default()).await.unwrap(); // reads are never faulted
    assert_eq!(
        api_err(pods.create(&pp, &pod("a", &[], None)).await),
        (409, "Conflict".into())
    );
    pods.create(&pp, &pod("a", &[], None)).await.unwrap();

    s.fail_next_writes("pods/status", 1, Fault::InternalError);
    let patch = Patch::Merge(json!({"metadata": {"labels": {"k": "v"}}}));
    pods.patch("a", &PatchParams::default(), &patch)
        .await
        .unwrap(); // main resource unaffected
    let st = Patch::Merge(json!({"status": {"podIP": "10.0.0.1"}}));
    assert_eq!(
        api_err(pods.patch_status("a", &PatchParams::default(), &st).await),
        (500, "InternalError".into())
    );
    pods.patch_status("a", &PatchParams::default(), &st)
        .await
        .unwrap();

    s.fail_next_writes("*", 5, Fault::TooManyRequests);
    s.clear_faults();
    pods.delete("a", &DeleteParams::default()).await.unwrap();
    assert_eq!(
        s.counts().get("create", "pods"),
        3,
        "faulted requests are counted"
    );
}

#[test]
fn sync_tests_use_the_servers_runtime() {
    let s = server();
    assert!(matches!(s.client(), Err(StartError::NoRuntime)));
    let name = s.block_on(async {
        let pods: Api<Pod> = Api::namespaced(s.client().unwrap(), "default");
        pods.create(&PostParams::default(), &pod("sync", &[], None))
            .await
            .unwrap()
            .metadata
            .name
    });
    assert_eq!(name.as_deref(), Some("sync"));
    let gvr = berth_kube_standin::Gvr::new("", "v1", "pods");
    assert_eq!(s.objects(&gvr).len(), 1);
    assert!(s.object(&gvr, "default", "sync").is_some());
    assert!(s.url().starts_with("http://127.0.0.1:"));
}

#[test]
fn drop_stops_the_server() {
    let s = ApiServer::start().unwrap();
    let addr = s.addr();
    drop(s);
    assert!(std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err());
}
