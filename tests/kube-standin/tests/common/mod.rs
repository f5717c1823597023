//! Shared helpers: a started server with Berth's CRDs registered, a client,
//! and small object builders.
#![allow(dead_code, clippy::unwrap_used)]

use berth_kube_standin::ApiServer;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ApiResource, DynamicObject};
use kube::Api;
use serde_json::json;
use std::time::Duration;

pub const GROUP: &str = "berth.io";
pub const VERSION: &str = "v1alpha1";

/// How long a test waits for what the server should send next.
pub const WAIT: Duration = Duration::from_secs(10);

/// The next item of a watch stream, within [`WAIT`]; panics on a timeout,
/// an error or the end of the stream.
pub async fn next_event<S>(stream: &mut S) -> S::Ok
where
    S: futures::TryStream + Unpin,
    S::Error: std::fmt::Debug,
{
    use futures::TryStreamExt;
    tokio::time::timeout(WAIT, stream.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
}

pub fn server() -> ApiServer {
    let s = ApiServer::start().unwrap();
    s.register_resource(GROUP, VERSION, "BerthPool", "berthpools", false);
    s.register_resource(GROUP, VERSION, "BerthAddress", "berthaddresses", true);
    s
}

pub fn pool_resource() -> ApiResource {
    ApiResource {
        group: GROUP.into(),
        version: VERSION.into(),
        api_version: format!("{GROUP}/{VERSION}"),
        kind: "BerthPool".into(),
        plural: "berthpools".into(),
    }
}

pub fn pools(client: kube::Client) -> Api<DynamicObject> {
    Api::all_with(client, &pool_resource())
}

pub fn pool(name: &str, subnet: &str) -> DynamicObject {
    DynamicObject::new(name, &pool_resource()).data(json!({ "spec": { "subnet": subnet } }))
}

pub fn pod(name: &str, labels: &[(&str, &str)], node: Option<&str>) -> Pod {
    let labels: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .map(|(k, v)| ((*k).into(), json!(v)))
        .collect();
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": name, "labels": labels },
        "spec": { "nodeName": node, "containers": [{ "name": "c", "image": "busybox" }] },
    }))
    .unwrap()
}

/// `(code, reason)` of a kube API error.
pub fn api_err<T: std::fmt::Debug>(r: Result<T, kube::Error>) -> (u16, String) {
    match r {
        Err(kube::Error::Api(s)) => (s.code, s.reason.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}
