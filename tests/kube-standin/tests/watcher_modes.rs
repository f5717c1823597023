//! kube-rs watcher start-up and recovery modes: `sendInitialEvents`
//! streaming lists (the current objects as ADDED events, then a BOOKMARK
//! annotated `k8s.io/initial-events-end`, with no LIST call), and the relist
//! after a 410 when a re-watch asks for a compacted resourceVersion.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::core::v1::Pod;
use kube::api::PostParams;
use kube::runtime::watcher;
use kube::{Api, ResourceExt};

#[tokio::test]
async fn watcher_streaming_list_needs_no_list_call() {
    let s = server();
    let pods: Api<Pod> = Api::namespaced(s.client().unwrap(), "default");
    for name in ["a", "b"] {
        pods.create(&PostParams::default(), &pod(name, &[], None))
            .await
            .unwrap();
    }
    let cfg = watcher::Config::default().streaming_lists();
    let mut stream = watcher(pods.clone(), cfg).boxed();
    let mut seen = Vec::new();
    loop {
        let ev = next_event(&mut stream).await;
        match ev {
            watcher::Event::Init => seen.push("Init".to_string()),
            watcher::Event::InitApply(p) => seen.push(p.name_any()),
            watcher::Event::InitDone => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, ["Init", "a", "b"]);
    pods.create(&PostParams::default(), &pod("c", &[], None))
        .await
        .unwrap();
    let ev = next_event(&mut stream).await;
    assert!(matches!(ev, watcher::Event::Apply(p) if p.name_any() == "c"));
    assert_eq!(s.counts().get("list", "pods"), 0);
    assert_eq!(s.counts().get("watch", "pods"), 1);
}

#[tokio::test]
async fn watcher_relists_after_410() {
    let s = server();
    let client = s.client().unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    pods.create(&PostParams::default(), &pod("pre", &[], None))
        .await
        .unwrap();
    // No bookmarks, so the watcher's resourceVersion stays the list's.
    let cfg = watcher::Config::default().disable_bookmarks();
    let mut stream = watcher(pods.clone(), cfg).boxed();
    let mut next = async || {
        let item = tokio::time::timeout(WAIT, stream.try_next()).await.unwrap();
        match item.map(Option::unwrap) {
            Err(watcher::Error::WatchError(st)) => format!("Error {}", st.code),
            Err(e) => panic!("{e}"),
            Ok(watcher::Event::Init) => "Init".to_string(),
            Ok(watcher::Event::InitApply(p)) => format!("InitApply {}", p.name_any()),
            Ok(watcher::Event::InitDone) => "InitDone".into(),
            Ok(watcher::Event::Apply(p)) => format!("Apply {}", p.name_any()),
            Ok(watcher::Event::Delete(p)) => format!("Delete {}", p.name_any()),
        }
    };
    for want in ["Init", "InitApply pre", "InitDone"] {
        assert_eq!(next().await, want);
    }
    // Move the global resourceVersion past the watcher's and forget the log.
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(serde_json::json!({"metadata": {"name": "x"}})).unwrap(),
    )
    .await
    .unwrap();
    s.compact();
    // The open watch finds its resourceVersion compacted away: an ERROR 410
    // event, which the watcher reports and answers with a fresh list.
    for want in ["Error 410", "Init", "InitApply pre", "InitDone"] {
        assert_eq!(
            next().await,
            want,
            "the watcher reports the 410, then relists"
        );
    }
    assert_eq!(s.counts().get("list", "pods"), 2);
}
