//! Kubernetes-mode harness: the in-process API server stand-in
//! (`berth-kube-standin`, real kube-rs client; see its crate docs for what
//! it does and does not cover), `berthd` processes configured as nodes of
//! that cluster, and the socket protocol the CNI plugin speaks.
//!
//! Not covered here: kubelet behaviour (pods vanish at once on delete, as
//! the stand-in has no kubelet), ownerReference garbage collection, RBAC.

#![allow(dead_code)]

use berth_kube_standin::ApiServer;
use berth_proto::admin::{AdminRequest, AdminResponse, AllocationView};
use berth_proto::{AddRequest, Attachment, DelRequest, GcRequest, PodRef, Request, Response};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::{json, Value};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Cluster {
    pub api: ApiServer,
}

impl Cluster {
    pub fn start() -> Self {
        let api = ApiServer::start().expect("stand-in API server");
        api.register_resource("berth.io", "v1alpha1", "BerthPool", "berthpools", false);
        api.register_resource(
            "berth.io",
            "v1alpha1",
            "BerthReservedIP",
            "berthreservedips",
            false,
        );
        api.register_resource(
            "berth.io",
            "v1alpha1",
            "BerthAddress",
            "berthaddresses",
            false,
        );
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
}

pub struct Berthd {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    config_path: PathBuf,
    child: Option<Child>,
    node: String,
    /// Extra environment for the next spawn (test hooks).
    env: Vec<(String, String)>,
}

impl Berthd {
    pub fn start(cluster: &Cluster, node: &str, policies: Value) -> Self {
        Self::start_with_gc_interval(cluster, node, policies, 1)
    }

    /// With GC (which refreshes this node's view of the records) every
    /// `gc_interval_secs`: a long interval keeps a node's view stale.
    pub fn start_with_gc_interval(
        cluster: &Cluster,
        node: &str,
        policies: Value,
        gc_interval_secs: u64,
    ) -> Self {
        Self::start_with_config(cluster, node, policies, |config| {
            config["kubernetes"]["gcIntervalSecs"] = json!(gc_interval_secs);
        })
    }

    /// With `tweak` applied to the generated config before start.
    pub fn start_with_config(
        cluster: &Cluster,
        node: &str,
        policies: Value,
        tweak: impl FnOnce(&mut Value),
    ) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("berth.sock");
        let config_path = dir.path().join("berthd.json");
        let mut config = json!({
            "socketPath": socket, "dataDir": dir.path().join("data"),
            "policies": policies,
            "limits": { "expiryIntervalSecs": 1, "configPollIntervalSecs": 1 },
            "kubernetes": { "apiServerUrl": cluster.api.url(), "gcIntervalSecs": 1, "gcGraceSecs": 1, "poolSyncIntervalSecs": 1 }
        });
        tweak(&mut config);
        std::fs::write(
            &config_path,
            serde_json::to_vec_pretty(&config).expect("json"),
        )
        .expect("config");
        let mut d = Self {
            dir,
            socket,
            config_path,
            child: None,
            node: node.to_owned(),
            env: Vec::new(),
        };
        d.spawn();
        d
    }

    fn spawn(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("log")).expect("log");
        let child = Command::new(env!("CARGO_BIN_EXE_berthd"))
            .args(["serve", "--config"])
            .arg(&self.config_path)
            .env("BERTH_NODE_NAME", &self.node)
            .env("RUST_LOG", "info,berth=debug")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn berthd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while UnixStream::connect(&self.socket).is_err() {
            assert!(
                Instant::now() < deadline,
                "berthd did not start:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    pub fn restart(&mut self) {
        self.restart_with_env(&[]);
    }

    /// SIGKILL (if still running) and start again with `env` added.
    pub fn restart_with_env(&mut self, env: &[(&str, &str)]) {
        if let Some(mut c) = self.child.take() {
            // It may have died already (a crash point): kill then fails,
            // and wait reaps it either way.
            let _ = c.kill();
            c.wait().expect("wait");
        }
        self.env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.spawn();
    }

    /// Whether the process has exited (e.g. at a crash point).
    pub fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().expect("try_wait").is_some())
    }

    pub fn set_policies(&self, policies: Value) {
        let mut config: Value =
            serde_json::from_slice(&std::fs::read(&self.config_path).expect("read")).expect("json");
        config["policies"] = policies;
        std::fs::write(
            &self.config_path,
            serde_json::to_vec_pretty(&config).expect("json"),
        )
        .expect("write");
        let reloads = self.log().matches("config reloaded").count();
        let pid = self.child.as_ref().expect("running").id().to_string();
        assert!(Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .expect("kill")
            .success());
        // Wait for the reload to be done, not for a guessed time.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while self.log().matches("config reloaded").count() == reloads {
            assert!(
                std::time::Instant::now() < deadline,
                "no reload after SIGHUP:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn ask(&self, request: &Request) -> Response {
        self.try_ask(request).expect("an answer")
    }

    /// A request whose answer may never come (the daemon crashed).
    fn try_ask(&self, request: &Request) -> Result<Response, String> {
        let mut stream = UnixStream::connect(&self.socket).map_err(|e| e.to_string())?;
        berth_proto::write_frame(&mut stream, request).map_err(|e| e.to_string())?;
        berth_proto::read_frame(&mut stream).map_err(|e| e.to_string())
    }

    /// CNI ADD for `pod` with a fresh container id; returns the address.
    pub fn add(&self, pod: &PodRef, container: &str) -> Result<String, String> {
        let request = Request::Add(AddRequest {
            attachment: Attachment {
                container_id: container.into(),
                ifname: "eth0".into(),
            },
            network: "k8s-pod-network".into(),
            pod: pod.clone(),
            pools: vec![],
            requested_ips: vec![],
            clean_gateway: None,
            labels: Vec::new(),
        });
        match self.try_ask(&request)? {
            Response::Added(result) => Ok(result.ips[0].address.addr().to_string()),
            Response::Error(e) => Err(format!("{:?}: {}", e.kind, e.message)),
            other => Err(format!("unexpected {other:?}")),
        }
    }

    pub fn del(&self, pod: &PodRef, container: &str) {
        let request = Request::Del(DelRequest {
            attachment: Attachment {
                container_id: container.into(),
                ifname: "eth0".into(),
            },
            network: "k8s-pod-network".into(),
            pod: pod.clone(),
        });
        assert_eq!(self.ask(&request), Response::Ok);
    }
}

impl Berthd {
    /// CNI GC as this node's runtime sends it: the attachments it still runs.
    pub fn gc(&self, valid_containers: &[&str]) {
        let request = Request::Gc(GcRequest {
            network: "k8s-pod-network".into(),
            valid: valid_containers
                .iter()
                .map(|c| Attachment {
                    container_id: (*c).into(),
                    ifname: "eth0".into(),
                })
                .collect(),
        });
        assert_eq!(self.ask(&request), Response::Ok);
    }

    /// The records this node's allocator holds (every node's, in Kubernetes mode).
    pub fn allocations(&self) -> Vec<AllocationView> {
        let mut all = Vec::new();
        let mut after = None;
        loop {
            match self.ask(&Request::Admin(AdminRequest::ListAllocations { after })) {
                Response::Admin(AdminResponse::Allocations { allocations, next }) => {
                    all.extend(allocations);
                    match next {
                        Some(next) => after = Some(next),
                        None => return all,
                    }
                }
                other => panic!("unexpected answer {other:?}"),
            }
        }
    }

    /// Whether this node's view holds `address`.
    pub fn knows(&self, address: &str) -> bool {
        self.allocations().iter().any(|a| a.address == address)
    }
}

impl Drop for Berthd {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // Teardown: the state lives in the stand-in, nothing to flush.
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn eventually(what: &str, secs: u64, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for: {what}");
}

pub fn sticky(hold: &str) -> Value {
    json!([{ "name": "sticky", "builtin": "sticky-statefulset", "settings": { "holdAfterScaleDown": hold } }])
}

impl Cluster {
    /// A pool with any `spec` (gateway, routes, DNS ...).
    pub fn pool_with(&self, name: &str, spec: Value) {
        self.create_cluster::<berth_kube::BerthPool>(json!({
            "apiVersion": "berth.io/v1alpha1", "kind": "BerthPool",
            "metadata": { "name": name }, "spec": spec
        }));
    }
}

impl Berthd {
    /// CNI ADD for `pod`'s interface `ifname`, with the CNI config's
    /// `cleanGateway`; the whole answer.
    pub fn add_on(
        &self,
        pod: &PodRef,
        container: &str,
        ifname: &str,
        clean_gateway: Option<bool>,
    ) -> Result<berth_proto::AddResult, String> {
        let request = Request::Add(AddRequest {
            attachment: Attachment {
                container_id: container.into(),
                ifname: ifname.into(),
            },
            network: "k8s-pod-network".into(),
            pod: pod.clone(),
            pools: vec![],
            requested_ips: vec![],
            clean_gateway,
            labels: Vec::new(),
        });
        match self.try_ask(&request)? {
            Response::Added(result) => Ok(result),
            Response::Error(e) => Err(format!("{:?}: {}", e.kind, e.message)),
            other => Err(format!("unexpected {other:?}")),
        }
    }
}
