//! The cluster: the stand-in API server with Berth's resources registered,
//! and the objects a test writes to it (nodes, namespaces, pools,
//! StatefulSets, pods) or reads back (BerthAddresses, pool status).

use berth_kube_standin::ApiServer;
use berth_proto::PodRef;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::{json, Value};

pub struct Cluster {
    pub api: ApiServer,
}

impl Cluster {
    pub fn start() -> Self {
        let api = ApiServer::start().expect("stand-in API server");
        api.register_berth_kinds();
        Self { api }
    }

    fn client(&self) -> kube::Client {
        self.api
            .block_on(async { self.api.client() })
            .expect("client")
    }

    fn write<K>(&self, api: impl FnOnce(kube::Client) -> Api<K>, object: Value) -> K
    where
        K: kube::Resource<DynamicType = ()>
            + Clone
            + std::fmt::Debug
            + serde::de::DeserializeOwned
            + serde::Serialize,
    {
        let object: K = serde_json::from_value(object).expect("object shape");
        let api = api(self.client());
        self.api.block_on(async move {
            api.create(&PostParams::default(), &object)
                .await
                .expect("create")
        })
    }

    pub fn create<K>(&self, _namespace: Option<&str>, object: Value) -> K
    where
        K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + std::fmt::Debug
            + serde::de::DeserializeOwned
            + serde::Serialize,
    {
        self.write(|c| Api::namespaced(c, "default"), object)
    }

    pub fn create_cluster<K>(&self, object: Value) -> K
    where
        K: kube::Resource<DynamicType = (), Scope = k8s_openapi::ClusterResourceScope>
            + Clone
            + std::fmt::Debug
            + serde::de::DeserializeOwned
            + serde::Serialize,
    {
        self.write(Api::all, object)
    }

    pub fn node(&self, name: &str) {
        self.create_cluster::<Node>(
            json!({ "apiVersion": "v1", "kind": "Node", "metadata": { "name": name } }),
        );
    }

    pub fn labeled_node(&self, name: &str, labels: Value) {
        self.create_cluster::<Node>(json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": { "name": name, "labels": labels }
        }));
    }

    pub fn namespace(&self, name: &str, labels: Value) {
        self.create_cluster::<Namespace>(json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": { "name": name, "labels": labels }
        }));
    }

    /// A pool of the whole `subnet` with namespace and node selectors.
    pub fn selective_pool(&self, name: &str, subnet: &str, namespaces: Value, nodes: Value) {
        self.create_cluster::<berth_kube::BerthPool>(json!({
            "apiVersion": "berth.io/v1alpha1", "kind": "BerthPool",
            "metadata": { "name": name },
            "spec": { "subnet": subnet, "namespaceSelector": namespaces, "nodeSelector": nodes }
        }));
    }

    pub fn pool(&self, name: &str, subnet: &str, ips: &[&str]) {
        self.create_cluster::<berth_kube::BerthPool>(json!({
            "apiVersion": "berth.io/v1alpha1", "kind": "BerthPool",
            "metadata": { "name": name },
            "spec": { "subnet": subnet, "ips": ips }
        }));
    }

    /// Merges `spec` into BerthPool `name`'s spec (as `kubectl patch`).
    pub fn patch_pool(&self, name: &str, spec: Value) {
        let client = self.client();
        let name = name.to_owned();
        self.api.block_on(async move {
            let api: Api<berth_kube::BerthPool> = Api::all(client);
            let patch = json!({ "spec": spec });
            api.patch(
                &name,
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(&patch),
            )
            .await
            .expect("patch pool");
        });
    }

    pub fn stateful_set(&self, name: &str, replicas: i32) -> String {
        let sts: StatefulSet = self.create(Some("default"), json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": { "name": name, "namespace": "default" },
            "spec": { "replicas": replicas, "serviceName": name,
                      "selector": { "matchLabels": { "app": name } },
                      "template": { "metadata": { "labels": { "app": name } }, "spec": { "containers": [] } } }
        }));
        sts.metadata.uid.expect("uid")
    }

    pub fn scale(&self, name: &str, replicas: i32) {
        let client = self.client();
        let name = name.to_owned();
        self.api.block_on(async move {
            let api: Api<StatefulSet> = Api::namespaced(client, "default");
            let patch = json!({ "spec": { "replicas": replicas } });
            api.patch(
                &name,
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(&patch),
            )
            .await
            .expect("scale");
        });
    }

    pub fn delete_stateful_set(&self, name: &str) {
        let client = self.client();
        let name = name.to_owned();
        self.api.block_on(async move {
            let api: Api<StatefulSet> = Api::namespaced(client, "default");
            api.delete(&name, &DeleteParams::default())
                .await
                .expect("delete sts");
        });
    }

    /// A pod on `node`, owned by `owner` (kind, name, uid) when given.
    pub fn pod(
        &self,
        name: &str,
        node: &str,
        owner: Option<(&str, &str, &str)>,
        annotations: Value,
    ) -> PodRef {
        let owners = owner
            .map(|(kind, oname, uid)| json!([{ "apiVersion": "apps/v1", "kind": kind, "name": oname, "uid": uid, "controller": true }]))
            .unwrap_or(json!([]));
        let pod: Pod = self.create(Some("default"), json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": { "name": name, "namespace": "default", "ownerReferences": owners, "annotations": annotations },
            "spec": { "nodeName": node, "containers": [] }
        }));
        PodRef {
            namespace: "default".into(),
            name: name.into(),
            uid: pod.metadata.uid.expect("uid"),
        }
    }

    pub fn delete_pod(&self, name: &str) {
        let client = self.client();
        let name = name.to_owned();
        self.api.block_on(async move {
            let api: Api<Pod> = Api::namespaced(client, "default");
            api.delete(&name, &DeleteParams::default())
                .await
                .expect("delete pod");
        });
    }

    pub fn addresses(&self) -> Vec<Value> {
        self.api.objects(&berth_kube_standin::Gvr::new(
            "berth.io",
            "v1alpha1",
            "berthaddresses",
        ))
    }

    /// Whether some BerthAddress object holds `address`.
    pub fn holds(&self, address: &str) -> bool {
        self.addresses()
            .iter()
            .any(|a| a["spec"]["address"] == address)
    }

    pub fn pool_status(&self, name: &str) -> Value {
        let gvr = berth_kube_standin::Gvr::new("berth.io", "v1alpha1", "berthpools");
        self.api
            .object(&gvr, "", name)
            .map(|o| o["status"].clone())
            .unwrap_or(Value::Null)
    }

    /// A pool with any `spec` (gateway, routes, DNS ...).
    pub fn pool_with(&self, name: &str, spec: Value) {
        self.create_cluster::<berth_kube::BerthPool>(json!({
            "apiVersion": "berth.io/v1alpha1", "kind": "BerthPool",
            "metadata": { "name": name }, "spec": spec
        }));
    }
}
