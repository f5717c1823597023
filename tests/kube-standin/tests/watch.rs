//! WATCH through kube-rs: `Api::watch` event order and resume, 410 on a
//! too-old resourceVersion, selectors on watches, bookmarks, and the
//! `kube::runtime` watcher and reflector.
#![allow(clippy::unwrap_used)]

mod common;
use berth_kube_standin::ApiServer;
use common::*;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::{reflector, watcher, WatchStreamExt};
use kube::{Api, ResourceExt};
use serde_json::json;
use std::time::Duration;

fn summary(e: &WatchEvent<Pod>) -> String {
    match e {
        WatchEvent::Added(p) => format!("ADDED {}", p.name_any()),
        WatchEvent::Modified(p) => format!("MODIFIED {}", p.name_any()),
        WatchEvent::Deleted(p) => format!("DELETED {}", p.name_any()),
        WatchEvent::Bookmark(_) => "BOOKMARK".into(),
        WatchEvent::Error(s) => format!("ERROR {}", s.code),
    }
}

/// Create a, label a, create b, delete a: four events after `rv`.
async fn churn(pods: &Api<Pod>) {
    let pp = PostParams::default();
    pods.create(&pp, &pod("a", &[], None)).await.unwrap();
    pods.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"x": "1"}}})),
    )
    .await
    .unwrap();
    pods.create(&pp, &pod("b", &[], None)).await.unwrap();
    pods.delete("a", &DeleteParams::default()).await.unwrap();
}

async fn collect(pods: &Api<Pod>, wp: &WatchParams, rv: &str, n: usize) -> Vec<String> {
    let stream = pods.watch(wp, rv).await.unwrap();
    let events = tokio::time::timeout(WAIT, stream.take(n).try_collect::<Vec<_>>())
        .await
        .unwrap()
        .unwrap();
    events.iter().map(summary).collect()
}

#[tokio::test]
async fn watch_sees_events_in_order_and_resumes() {
    let s = server();
    let pods: Api<Pod> = Api::namespaced(s.client().unwrap(), "default");
    let start = s.resource_version().to_string();
    let wp = WatchParams::default().disable_bookmarks();
    let live = pods.watch(&wp, &start).await.unwrap();
    churn(&pods).await;
    let got = tokio::time::timeout(WAIT, live.take(4).try_collect::<Vec<_>>())
        .await
        .unwrap()
        .unwrap();
    let want = ["ADDED a", "MODIFIED a", "ADDED b", "DELETED a"];
    assert_eq!(got.iter().map(summary).collect::<Vec<_>>(), want);

    // Replay from the start, and resume from the middle.
    assert_eq!(collect(&pods, &wp, &start, 4).await, want);
    let mid = match &got[1] {
        WatchEvent::Modified(p) => p.resource_version().unwrap(),
        _ => unreachable!(),
    };
    assert_eq!(collect(&pods, &wp, &mid, 2).await, ["ADDED b", "DELETED a"]);
    // "0" starts from the current state with synthetic ADDED events.
    assert_eq!(collect(&pods, &wp, "0", 1).await, ["ADDED b"]);
}

#[tokio::test]
async fn too_old_resource_version_is_410() {
    let s = ApiServer::builder().event_log_capacity(2).start().unwrap();
    let pods: Api<Pod> = Api::namespaced(s.client().unwrap(), "default");
    let start = s.resource_version().to_string();
    churn(&pods).await; // four events: the log keeps two
    let wp = WatchParams::default();
    assert_eq!(collect(&pods, &wp, &start, 1).await, ["ERROR 410"]);
    s.compact();
    let now = s.resource_version().to_string();
    let stream = pods.watch(&wp, &now).await.unwrap();
    pods.create(&PostParams::default(), &pod("c", &[], None))
        .await
        .unwrap();
    let first = tokio::time::timeout(WAIT, stream.take(1).try_collect::<Vec<_>>())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        summary(&first[0]),
        "ADDED c",
        "a watch from the compaction point still works"
    );
}

#[tokio::test]
async fn selectors_on_watch_report_transitions() {
    let s = server();
    let pods: Api<Pod> = Api::namespaced(s.client().unwrap(), "default");
    let start = s.resource_version().to_string();
    churn(&pods).await;
    // "a" enters the selector when labelled, and leaves it when deleted.
    let wp = WatchParams::default().labels("x=1").disable_bookmarks();
    assert_eq!(
        collect(&pods, &wp, &start, 2).await,
        ["ADDED a", "DELETED a"]
    );
    let wp = WatchParams::default()
        .fields("metadata.name=b")
        .disable_bookmarks();
    assert_eq!(collect(&pods, &wp, &start, 1).await, ["ADDED b"]);
    // Relabelling out of a selector is a DELETED for that watcher.
    let wp = WatchParams::default().labels("x=1").disable_bookmarks();
    let from = s.resource_version().to_string();
    let stream = pods.watch(&wp, &from).await.unwrap();
    pods.patch(
        "b",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"x": "1"}}})),
    )
    .await
    .unwrap();
    pods.patch(
        "b",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"x": "2"}}})),
    )
    .await
    .unwrap();
    let got = tokio::time::timeout(WAIT, stream.take(2).try_collect::<Vec<_>>())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got.iter().map(summary).collect::<Vec<_>>(),
        ["ADDED b", "DELETED b"]
    );
}

#[tokio::test]
async fn bookmarks_and_timeout() {
    let s = ApiServer::builder()
        .bookmark_interval(Duration::from_millis(50))
        .start()
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(s.client().unwrap(), "default");
    pods.create(&PostParams::default(), &pod("a", &[], None))
        .await
        .unwrap();
    let rv = s.resource_version().to_string();
    let wp = WatchParams::default().timeout(1);
    let events: Vec<_> =
        tokio::time::timeout(WAIT, pods.watch(&wp, &rv).await.unwrap().try_collect())
            .await
            .unwrap()
            .unwrap();
    assert!(
        events.len() >= 2,
        "bookmarks every 50 ms over a 1 s watch: {}",
        events.len()
    );
    assert!(events
        .iter()
        .all(|e| matches!(e, WatchEvent::Bookmark(b) if b.metadata.resource_version == rv)));
}

#[tokio::test]
async fn runtime_watcher_sees_added_modified_deleted_in_order() {
    let s = server();
    let pods: Api<Pod> = Api::namespaced(s.client().unwrap(), "default");
    pods.create(&PostParams::default(), &pod("pre", &[], None))
        .await
        .unwrap();
    let mut stream = watcher(pods.clone(), watcher::Config::default()).boxed();
    let mut seen = Vec::new();
    let mut churned = false;
    while seen.len() < 6 {
        let ev = next_event(&mut stream).await;
        match ev {
            watcher::Event::Init => seen.push("Init".to_string()),
            watcher::Event::InitApply(p) => seen.push(format!("InitApply {}", p.name_any())),
            watcher::Event::InitDone => {
                seen.push("InitDone".into());
                if !churned {
                    churned = true;
                    churn(&pods).await;
                }
            }
            watcher::Event::Apply(p) => {
                seen.push(format!("Apply {} {}", p.name_any(), p.labels().len()))
            }
            watcher::Event::Delete(p) => seen.push(format!("Delete {}", p.name_any())),
        }
    }
    assert_eq!(
        seen,
        [
            "Init",
            "InitApply pre",
            "InitDone",
            "Apply a 0",
            "Apply a 1",
            "Apply b 0"
        ]
    );
    let ev = next_event(&mut stream).await;
    assert!(matches!(ev, watcher::Event::Delete(p) if p.name_any() == "a"));
}

#[tokio::test]
async fn reflector_store_converges() {
    let s = server();
    let client = s.client().unwrap();
    let pods: Api<Pod> = Api::all(client.clone());
    let (reader, writer) = reflector::store::<Pod>();
    let stream = reflector(writer, watcher(pods, watcher::Config::default())).applied_objects();
    let task = tokio::spawn(stream.for_each(|_| async {}));
    reader.wait_until_ready().await.unwrap();

    let ns: Api<Pod> = Api::namespaced(client, "default");
    for i in 0..20 {
        ns.create(&PostParams::default(), &pod(&format!("p{i}"), &[], None))
            .await
            .unwrap();
    }
    for i in 0..10 {
        let patch = Patch::Merge(json!({"metadata": {"labels": {"gen": "2"}}}));
        ns.patch(&format!("p{i}"), &PatchParams::default(), &patch)
            .await
            .unwrap();
    }
    for i in 15..20 {
        ns.delete(&format!("p{i}"), &DeleteParams::default())
            .await
            .unwrap();
    }
    let want_rv = s.resource_version();
    let converged = tokio::time::timeout(WAIT, async {
        loop {
            let state = reader.state();
            let labelled = state
                .iter()
                .filter(|p| p.labels().get("gen").is_some())
                .count();
            let max_rv = state
                .iter()
                .filter_map(|p| p.resource_version()?.parse::<u64>().ok())
                .max();
            if state.len() == 15 && labelled == 10 && max_rv.is_some() {
                return max_rv;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
    assert!(converged.unwrap() <= want_rv);
    task.abort();
}
