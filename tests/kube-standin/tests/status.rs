//! The `/status` subresource through kube-rs (`patch_status`,
//! `replace_status`), and the server-owned lifecycle: generateName, dryRun,
//! finalizers and deletionTimestamp.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use serde_json::json;

#[tokio::test]
async fn status_subresource_is_isolated() {
    let s = server();
    let pods: Api<Pod> = Api::namespaced(s.client().unwrap(), "default");
    let mut with_status = pod("p", &[], None);
    with_status.status = Some(serde_json::from_value(json!({"podIP": "10.0.0.9"})).unwrap());
    let created = pods
        .create(&PostParams::default(), &with_status)
        .await
        .unwrap();
    assert!(
        created.status.is_none(),
        "create drops .status when it is a subresource"
    );

    let st = pods
        .patch_status("p", &PatchParams::default(), &Patch::Merge(json!({"status": {"podIP": "10.0.0.1"}, "metadata": {"labels": {"ignored": "yes"}}})))
        .await
        .unwrap();
    assert_eq!(
        st.status.as_ref().unwrap().pod_ip.as_deref(),
        Some("10.0.0.1")
    );
    assert!(
        st.labels().get("ignored").is_none(),
        "/status writes change nothing but .status"
    );

    // The main resource ignores .status, in both PUT and PATCH.
    let mut main = st.clone();
    main.status = Some(serde_json::from_value(json!({"podIP": "10.9.9.9"})).unwrap());
    main.labels_mut().insert("kept".into(), "yes".into());
    let put = pods
        .replace("p", &PostParams::default(), &main)
        .await
        .unwrap();
    assert_eq!(
        put.status.as_ref().unwrap().pod_ip.as_deref(),
        Some("10.0.0.1")
    );
    assert_eq!(put.labels().get("kept").map(String::as_str), Some("yes"));
    let patched = pods
        .patch(
            "p",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"podIP": "10.9.9.9"}})),
        )
        .await
        .unwrap();
    assert_eq!(
        patched.status.as_ref().unwrap().pod_ip.as_deref(),
        Some("10.0.0.1")
    );

    // replace_status takes the whole object and keeps everything but status.
    let mut next = patched.clone();
    next.status = Some(serde_json::from_value(json!({"podIP": "10.0.0.2"})).unwrap());
    next.labels_mut().insert("dropped".into(), "yes".into());
    let replaced = pods
        .replace_status("p", &PostParams::default(), &next)
        .await
        .unwrap();
    assert_eq!(replaced.status.unwrap().pod_ip.as_deref(), Some("10.0.0.2"));
    assert!(!replaced.metadata.labels.unwrap().contains_key("dropped"));
    assert_eq!(s.counts().get("patch", "pods/status"), 1);
    assert_eq!(s.counts().get("update", "pods/status"), 1);

    // The custom resource has a status subresource too.
    let api = pools(s.client().unwrap());
    api.create(&PostParams::default(), &pool("p", "10.0.0.0/24"))
        .await
        .unwrap();
    let st = api
        .patch_status(
            "p",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"allocated": 2, "total": 10}})),
        )
        .await
        .unwrap();
    assert_eq!(st.data["status"]["allocated"], 2);
    assert_eq!(st.data["spec"]["subnet"], "10.0.0.0/24");
}

#[tokio::test]
async fn generate_name_dry_run_and_finalizers() {
    let s = server();
    let pods: Api<Pod> = Api::namespaced(s.client().unwrap(), "default");
    let mut p = pod("", &[], None);
    p.metadata.name = None;
    p.metadata.generate_name = Some("web-".into());
    let a = pods.create(&PostParams::default(), &p).await.unwrap();
    let b = pods.create(&PostParams::default(), &p).await.unwrap();
    assert!(a.name_any().starts_with("web-") && a.name_any().len() == 9);
    assert_ne!(a.name_any(), b.name_any());

    let rv = s.resource_version();
    let dry = PostParams {
        dry_run: true,
        ..Default::default()
    };
    pods.create(&dry, &pod("dry", &[], None)).await.unwrap();
    assert!(pods.get_opt("dry").await.unwrap().is_none());
    assert_eq!(s.resource_version(), rv, "dry runs change nothing");

    let mut f = pod("fin", &[], None);
    f.metadata.finalizers = Some(vec!["berth.io/release".into()]);
    pods.create(&PostParams::default(), &f).await.unwrap();
    pods.delete("fin", &DeleteParams::default()).await.unwrap();
    let held = pods.get("fin").await.unwrap();
    assert!(
        held.metadata.deletion_timestamp.is_some(),
        "finalizers hold the object"
    );
    pods.patch(
        "fin",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert!(
        pods.get_opt("fin").await.unwrap().is_none(),
        "removing the last finalizer deletes"
    );
}
