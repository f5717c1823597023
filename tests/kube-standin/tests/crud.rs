//! CRUD through the real kube-rs client: core pods and a cluster-scoped
//! custom resource; AlreadyExists / Conflict / NotFound mapping; status
//! subresource isolation; patch flavours; generateName; finalizers.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::{Api, ResourceExt};
use serde_json::json;

#[tokio::test]
async fn pod_crud_round_trip() {
    let s = server();
    let pods: Api<Pod> = Api::namespaced(s.client().unwrap(), "default");
    let created = pods
        .create(&PostParams::default(), &pod("p1", &[("app", "a")], None))
        .await
        .unwrap();
    assert!(created.uid().is_some());
    assert!(created.creation_timestamp().is_some());
    assert_eq!(created.metadata.generation, Some(1));
    assert_eq!(created.namespace().as_deref(), Some("default"));
    let rv1: u64 = created.resource_version().unwrap().parse().unwrap();

    let got = pods.get("p1").await.unwrap();
    assert_eq!(got.uid(), created.uid());
    assert_eq!(pods.list(&Default::default()).await.unwrap().items.len(), 1);

    let mut changed = got.clone();
    changed.labels_mut().insert("tier".into(), "fe".into());
    let replaced = pods
        .replace("p1", &PostParams::default(), &changed)
        .await
        .unwrap();
    let rv2: u64 = replaced.resource_version().unwrap().parse().unwrap();
    assert!(rv2 > rv1);
    assert_eq!(
        replaced.metadata.generation,
        Some(1),
        "metadata changes keep the generation"
    );

    let patched = pods
        .patch(
            "p1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"nodeName": "n1"}})),
        )
        .await
        .unwrap();
    assert_eq!(
        patched.spec.as_ref().unwrap().node_name.as_deref(),
        Some("n1")
    );
    assert_eq!(
        patched.metadata.generation,
        Some(2),
        "spec changes bump the generation"
    );
    assert_eq!(patched.labels().get("tier").map(String::as_str), Some("fe"));

    let deleted = pods.delete("p1", &DeleteParams::default()).await.unwrap();
    assert!(
        deleted.is_left(),
        "the API answers a delete with the object"
    );
    assert_eq!(api_err(pods.get("p1").await), (404, "NotFound".into()));
    assert_eq!(
        api_err(pods.delete("p1", &DeleteParams::default()).await),
        (404, "NotFound".into())
    );
}

#[tokio::test]
async fn custom_resource_crud() {
    let s = server();
    let api = pools(s.client().unwrap());
    let p = api
        .create(&PostParams::default(), &pool("test-ippool", "10.6.0.0/16"))
        .await
        .unwrap();
    assert_eq!(p.data["spec"]["subnet"], "10.6.0.0/16");
    assert_eq!(
        p.namespace(),
        None,
        "cluster-scoped objects have no namespace"
    );
    let ssa = PatchParams::apply("berth-test");
    let applied = api
        .patch("test-ippool", &ssa, &Patch::Apply(json!({"apiVersion": "berth.io/v1alpha1", "kind": "BerthPool", "spec": {"ips": ["10.6.168.101-10.6.168.110"]}})))
        .await
        .unwrap();
    assert_eq!(applied.data["spec"]["subnet"], "10.6.0.0/16");
    assert_eq!(applied.data["spec"]["ips"][0], "10.6.168.101-10.6.168.110");
    let jp: json_patch::Patch = serde_json::from_value(
        json!([{"op": "replace", "path": "/spec/subnet", "value": "10.7.0.0/16"}]),
    )
    .unwrap();
    let after = api
        .patch(
            "test-ippool",
            &PatchParams::default(),
            &Patch::<()>::Json(jp),
        )
        .await
        .unwrap();
    assert_eq!(after.data["spec"]["subnet"], "10.7.0.0/16");
    // Server-side apply creates what is absent.
    let made = api
        .patch("other", &ssa, &Patch::Apply(json!({"apiVersion": "berth.io/v1alpha1", "kind": "BerthPool", "spec": {"subnet": "10.8.0.0/24"}})))
        .await
        .unwrap();
    assert!(made.uid().is_some());
    assert_eq!(api.list(&Default::default()).await.unwrap().items.len(), 2);
    api.delete("test-ippool", &DeleteParams::default())
        .await
        .unwrap();
    assert!(s
        .object(
            &berth_kube_standin::Gvr::new(GROUP, VERSION, "berthpools"),
            "",
            "test-ippool"
        )
        .is_none());
}

#[tokio::test]
async fn already_exists_and_stale_resource_version_conflict() {
    let s = server();
    let pods: Api<Pod> = Api::namespaced(s.client().unwrap(), "default");
    let pp = PostParams::default();
    let first = pods.create(&pp, &pod("p", &[], None)).await.unwrap();
    assert_eq!(
        api_err(pods.create(&pp, &pod("p", &[], None)).await),
        (409, "AlreadyExists".into())
    );
    // The same name in another namespace is another object.
    let other: Api<Pod> = Api::namespaced(s.client().unwrap(), "other");
    other.create(&pp, &pod("p", &[], None)).await.unwrap();

    let mut a = first.clone();
    a.labels_mut().insert("x".into(), "1".into());
    pods.replace("p", &pp, &a).await.unwrap();
    let mut stale = first.clone();
    stale.labels_mut().insert("x".into(), "2".into());
    assert_eq!(
        api_err(pods.replace("p", &pp, &stale).await),
        (409, "Conflict".into())
    );
    // A merge patch carrying a stale resourceVersion conflicts too.
    let rv = first.resource_version().unwrap();
    let p = Patch::Merge(json!({"metadata": {"resourceVersion": rv, "labels": {"x": "3"}}}));
    assert_eq!(
        api_err(pods.patch("p", &PatchParams::default(), &p).await),
        (409, "Conflict".into())
    );
    // Replace of a missing object is 404.
    assert_eq!(
        api_err(pods.replace("nope", &pp, &pod("nope", &[], None)).await),
        (404, "NotFound".into())
    );
    // A kube-rs error is a `kube::Error::Api(Status)` with the reason and details.
    match pods.create(&pp, &pod("p", &[], None)).await {
        Err(kube::Error::Api(st)) => {
            assert_eq!((st.code, st.reason.as_str()), (409, "AlreadyExists"));
            assert_eq!(st.details.unwrap().name, "p");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn delete_preconditions() {
    let s = server();
    let pods: Api<Pod> = Api::namespaced(s.client().unwrap(), "default");
    let p = pods
        .create(&PostParams::default(), &pod("p", &[], None))
        .await
        .unwrap();
    let wrong_rv = DeleteParams {
        preconditions: Some(Preconditions {
            resource_version: Some("1".into()),
            uid: None,
        }),
        ..Default::default()
    };
    let wrong_uid = DeleteParams {
        preconditions: Some(Preconditions {
            resource_version: None,
            uid: Some("nope".into()),
        }),
        ..Default::default()
    };
    pods.patch(
        "p",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
    )
    .await
    .unwrap();
    assert_eq!(
        api_err(pods.delete("p", &wrong_rv).await),
        (409, "Conflict".into())
    );
    assert_eq!(
        api_err(pods.delete("p", &wrong_uid).await),
        (409, "Conflict".into())
    );
    let right = DeleteParams {
        preconditions: Some(Preconditions {
            resource_version: None,
            uid: p.uid(),
        }),
        ..Default::default()
    };
    pods.delete("p", &right).await.unwrap();
    assert!(pods.get_opt("p").await.unwrap().is_none());
}

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
    assert!(replaced.metadata.labels.unwrap().get("dropped").is_none());
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
