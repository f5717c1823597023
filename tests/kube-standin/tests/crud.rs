//! CRUD through the real kube-rs client: core pods and a cluster-scoped
//! custom resource; AlreadyExists / Conflict / NotFound mapping; delete
//! preconditions; merge, JSON and apply patches.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams, Preconditions};
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
async fn delete_collection_by_label() {
    let s = server();
    let pods: Api<Pod> = Api::namespaced(s.client().unwrap(), "default");
    for (name, app) in [("a", "web"), ("b", "web"), ("c", "db")] {
        pods.create(&PostParams::default(), &pod(name, &[("app", app)], None))
            .await
            .unwrap();
    }
    let gone = pods
        .delete_collection(
            &DeleteParams::default(),
            &ListParams::default().labels("app=web"),
        )
        .await
        .unwrap();
    let names: Vec<_> = gone
        .left()
        .unwrap()
        .items
        .iter()
        .map(ResourceExt::name_any)
        .collect();
    assert_eq!(names, ["a", "b"]);
    let left: Vec<_> = pods
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(ResourceExt::name_any)
        .collect();
    assert_eq!(left, ["c"]);
    assert_eq!(s.counts().get("deletecollection", "pods"), 1);
}
