//! Label and field selectors on LIST through kube-rs `ListParams`.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, PostParams};
use kube::{Api, ResourceExt};

async fn names(api: &Api<Pod>, lp: &ListParams) -> Vec<String> {
    api.list(lp)
        .await
        .unwrap()
        .items
        .iter()
        .map(ResourceExt::name_any)
        .collect()
}

#[tokio::test]
async fn label_and_field_selectors_on_list() {
    let s = server();
    let client = s.client().unwrap();
    let default: Api<Pod> = Api::namespaced(client.clone(), "default");
    let other: Api<Pod> = Api::namespaced(client.clone(), "other");
    let all: Api<Pod> = Api::all(client);
    let pp = PostParams::default();
    default
        .create(
            &pp,
            &pod("a", &[("app", "web"), ("tier", "fe")], Some("n1")),
        )
        .await
        .unwrap();
    default
        .create(&pp, &pod("b", &[("app", "db")], Some("n2")))
        .await
        .unwrap();
    default.create(&pp, &pod("c", &[], None)).await.unwrap();
    other
        .create(&pp, &pod("a", &[("app", "web")], Some("n1")))
        .await
        .unwrap();

    let l = |s: &str| ListParams::default().labels(s);
    let f = |s: &str| ListParams::default().fields(s);
    assert_eq!(names(&default, &l("app=web")).await, ["a"]);
    assert_eq!(names(&default, &l("app!=web")).await, ["b", "c"]);
    assert_eq!(names(&default, &l("app in (web,db)")).await, ["a", "b"]);
    assert_eq!(names(&default, &l("app notin (web)")).await, ["b", "c"]);
    assert_eq!(names(&default, &l("app")).await, ["a", "b"]);
    assert_eq!(names(&default, &l("!app")).await, ["c"]);
    assert_eq!(names(&default, &l("app=web,tier=fe")).await, ["a"]);
    assert_eq!(names(&all, &l("app=web")).await, ["a", "a"]);

    assert_eq!(names(&default, &f("metadata.name=b")).await, ["b"]);
    assert_eq!(names(&all, &f("metadata.namespace=other")).await, ["a"]);
    assert_eq!(names(&all, &f("spec.nodeName=n1")).await, ["a", "a"]);
    assert_eq!(names(&default, &f("spec.nodeName!=n1")).await, ["b", "c"]);
    assert_eq!(names(&default, &f("spec.nodeName=")).await, ["c"]);
    assert_eq!(
        names(
            &all,
            &ListParams::default()
                .labels("app=web")
                .fields("metadata.namespace=default")
        )
        .await,
        ["a"]
    );

    let bad = default.list(&l("app in web")).await;
    assert_eq!(api_err(bad).0, 400);

    let list = default.list(&ListParams::default()).await.unwrap();
    let rv: u64 = list.metadata.resource_version.unwrap().parse().unwrap();
    assert_eq!(
        rv,
        s.resource_version(),
        "a list carries the current resourceVersion"
    );
}
