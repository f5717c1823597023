//! Workload identity from the cluster: a pod's labels, forwarded
//! annotations, namespace annotations and owner chain (ReplicaSet →
//! Deployment, StatefulSet with ordinal and replicas, Job, DaemonSet).
//!
//! Served from reflector caches; a pod the cache has not seen yet (the
//! kubelet often calls CNI ADD before our watch delivers the new pod) is
//! read directly from the API server, as is a missing owner.

use super::annotations;
use berth_core::placement::Labels;
use berth_policy_sdk::{KeyValue, Owner, StatefulSet as StsInfo};
use berth_proto::PodRef;
use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client, Resource};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::runtime::Handle;

/// What the cluster says about the pod an ADD is for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workload {
    pub uid: String,
    pub labels: Vec<KeyValue>,
    /// Only the forwarded prefixes (`berth.io/`, `ipam.spidernet.io/`).
    pub annotations: Vec<KeyValue>,
    pub pod_annotations: BTreeMap<String, String>,
    pub namespace_annotations: BTreeMap<String, String>,
    /// What pool `namespaceSelector`s are matched against.
    pub namespace_labels: BTreeMap<String, String>,
    pub owner: Option<Owner>,
    pub stateful_set: Option<StsInfo>,
    pub node: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("reading {what} from the API server: {source}")]
    Api { what: String, source: kube::Error },
}

pub struct Directory {
    client: Client,
    handle: Handle,
    pods: Store<Pod>,
    namespaces: Store<Namespace>,
    /// Only this daemon's own node: its labels feed pool node selectors.
    nodes: Store<Node>,
    stateful_sets: Store<StatefulSet>,
    replica_sets: Store<ReplicaSet>,
}

fn cached<K>(client: &Client, handle: &Handle, config: watcher::Config) -> Store<K>
where
    K: Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + Send
        + Sync
        + serde::de::DeserializeOwned
        + 'static,
{
    let (reader, writer) = reflector::store();
    let api: Api<K> = Api::all(client.clone());
    let stream = reflector::reflector(writer, watcher(api, config))
        .default_backoff()
        .touched_objects();
    handle.spawn(async move {
        use futures::StreamExt;
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            if let Err(error) = event {
                tracing::warn!(%error, kind = std::any::type_name::<K>(), "watch error; retrying");
            }
        }
    });
    reader
}

impl Directory {
    /// Starts the caches on `handle`: this node's pods and Node object,
    /// every namespace, StatefulSet and ReplicaSet (owners of pods on any
    /// node can matter).
    pub fn start(client: Client, handle: Handle, node: &str) -> Self {
        let on_node = watcher::Config::default().fields(&format!("spec.nodeName={node}"));
        let this_node = watcher::Config::default().fields(&format!("metadata.name={node}"));
        Self {
            pods: cached(&client, &handle, on_node),
            namespaces: cached(&client, &handle, watcher::Config::default()),
            nodes: cached(&client, &handle, this_node),
            stateful_sets: cached(&client, &handle, watcher::Config::default()),
            replica_sets: cached(&client, &handle, watcher::Config::default()),
            client,
            handle,
        }
    }

    /// Blocking: call from a blocking thread, never from async code.
    pub fn workload(&self, pod: &PodRef) -> Result<Option<Workload>, DirectoryError> {
        if pod.name.is_empty() || pod.namespace.is_empty() {
            return Ok(None);
        }
        let key = ObjectRef::new(&pod.name).within(&pod.namespace);
        let cached = self
            .pods
            .get(&key)
            .filter(|p| pod.uid.is_empty() || p.metadata.uid.as_deref() == Some(&pod.uid));
        let found = match cached {
            Some(found) => found,
            None => match self.get_namespaced::<Pod>(&pod.namespace, &pod.name)? {
                Some(found) => Arc::new(found),
                None => return Ok(None),
            },
        };
        let meta = &found.metadata;
        let pod_annotations = meta.annotations.clone().unwrap_or_default();
        let namespace = self.namespace(&pod.namespace)?;
        let namespace_meta = namespace.as_ref().map(|ns| &ns.metadata);
        let namespace_annotations = namespace_meta
            .and_then(|m| m.annotations.clone())
            .unwrap_or_default();
        let namespace_labels = namespace_meta
            .and_then(|m| m.labels.clone())
            .unwrap_or_default();
        let (owner, stateful_set) = self.owner_of(&found)?;
        Ok(Some(Workload {
            uid: meta.uid.clone().unwrap_or_default(),
            labels: pairs(meta.labels.iter().flatten()),
            annotations: pairs(annotations::forwarded(&pod_annotations)),
            pod_annotations,
            namespace_annotations,
            namespace_labels,
            owner,
            stateful_set,
            node: found.spec.as_ref().and_then(|s| s.node_name.clone()),
        }))
    }

    /// The labels of `namespace` (none for a namespace the API server does
    /// not know, so a pool with a namespace selector excludes it).
    pub fn namespace_labels(&self, namespace: &str) -> Result<Labels, DirectoryError> {
        if namespace.is_empty() {
            return Ok(Labels::new());
        }
        Ok(self
            .namespace(namespace)?
            .and_then(|ns| ns.metadata.labels.clone())
            .unwrap_or_default())
    }

    /// The labels of `node`, what pool `nodeSelector`s are matched against
    /// (none for a node the API server does not know).
    pub fn node_labels(&self, node: &str) -> Result<Labels, DirectoryError> {
        let labels = match self.nodes.get(&ObjectRef::new(node)) {
            Some(found) => found.metadata.labels.clone(),
            None => {
                let api: Api<Node> = Api::all(self.client.clone());
                let what = format!("Node/{node}");
                self.handle
                    .block_on(api.get_opt(node))
                    .map_err(|source| DirectoryError::Api { what, source })?
                    .and_then(|n| n.metadata.labels)
            }
        };
        Ok(labels.unwrap_or_default())
    }

    fn namespace(&self, name: &str) -> Result<Option<Arc<Namespace>>, DirectoryError> {
        if let Some(ns) = self.namespaces.get(&ObjectRef::new(name)) {
            return Ok(Some(ns));
        }
        let api: Api<Namespace> = Api::all(self.client.clone());
        let what = format!("Namespace/{name}");
        self.handle
            .block_on(api.get_opt(name))
            .map(|o| o.map(Arc::new))
            .map_err(|source| DirectoryError::Api { what, source })
    }

    fn owner_of(&self, pod: &Pod) -> Result<(Option<Owner>, Option<StsInfo>), DirectoryError> {
        let Some(controller) = controller_of(pod.metadata.owner_references.as_deref()) else {
            return Ok((None, None));
        };
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        match controller.kind.as_str() {
            "StatefulSet" => {
                let sts = self.cached_or_get(&self.stateful_sets, &namespace, &controller.name)?;
                let replicas = sts.as_ref().map(|s| s.spec.replicas.unwrap_or(1));
                let ordinal = ordinal_of(pod, &controller.name);
                let info = ordinal.map(|ordinal| StsInfo {
                    name: controller.name.clone(),
                    ordinal,
                    replicas: replicas.and_then(|r| u32::try_from(r).ok()),
                });
                Ok((Some(owner(controller)), info))
            }
            "ReplicaSet" => {
                let rs = self.cached_or_get(&self.replica_sets, &namespace, &controller.name)?;
                let deployment = rs
                    .and_then(|rs| controller_of(rs.metadata.owner_references.as_deref()).cloned());
                Ok((Some(owner(deployment.as_ref().unwrap_or(controller))), None))
            }
            _ => Ok((Some(owner(controller)), None)),
        }
    }

    fn cached_or_get<K>(
        &self,
        store: &Store<K>,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Arc<K>>, DirectoryError>
    where
        K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + std::fmt::Debug
            + serde::de::DeserializeOwned,
    {
        if let Some(found) = store.get(&ObjectRef::new(name).within(namespace)) {
            return Ok(Some(found));
        }
        let api: Api<K> = Api::namespaced(self.client.clone(), namespace);
        let what = format!("{}/{namespace}/{name}", K::kind(&()));
        self.handle
            .block_on(api.get_opt(name))
            .map(|o| o.map(Arc::new))
            .map_err(|source| DirectoryError::Api { what, source })
    }

    fn get_namespaced<K>(&self, namespace: &str, name: &str) -> Result<Option<K>, DirectoryError>
    where
        K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + std::fmt::Debug
            + serde::de::DeserializeOwned,
    {
        let api: Api<K> = Api::namespaced(self.client.clone(), namespace);
        let what = format!("{}/{namespace}/{name}", K::kind(&()));
        self.handle
            .block_on(api.get_opt(name))
            .map_err(|source| DirectoryError::Api { what, source })
    }

    /// The StatefulSet's desired replicas, or `None` when it is gone.
    pub fn stateful_set_replicas(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<u32>, DirectoryError> {
        let sts = self.cached_or_get(&self.stateful_sets, namespace, name)?;
        Ok(sts.map(|s| u32::try_from(s.spec.replicas.unwrap_or(1)).unwrap_or(0)))
    }

    /// Whether a pod with this UID exists. A pod the cache holds is alive:
    /// a stale entry can only delay GC, never free an address. Absence is
    /// always read from the API server (GC must never free an address on
    /// stale information), so a GC pass costs one read per suspect, not
    /// one per pod of the node.
    pub fn pod_exists(
        &self,
        namespace: &str,
        name: &str,
        uid: &str,
    ) -> Result<bool, DirectoryError> {
        let key = ObjectRef::new(name).within(namespace);
        if let Some(cached) = self.pods.get(&key) {
            if !uid.is_empty() && cached.metadata.uid.as_deref() == Some(uid) {
                return Ok(true);
            }
        }
        let found = self.get_namespaced::<Pod>(namespace, name)?;
        Ok(found.is_some_and(|p| uid.is_empty() || p.metadata.uid.as_deref() == Some(uid)))
    }
}

fn controller_of(refs: Option<&[OwnerReference]>) -> Option<&OwnerReference> {
    refs?.iter().find(|r| r.controller == Some(true))
}

fn owner(r: &OwnerReference) -> Owner {
    Owner {
        kind: r.kind.clone(),
        name: r.name.clone(),
        uid: r.uid.clone(),
    }
}

/// The ordinal: the `apps.kubernetes.io/pod-index` label when set
/// (Kubernetes ≥ 1.28), else the suffix after `<statefulset>-`.
fn ordinal_of(pod: &Pod, sts: &str) -> Option<u32> {
    let labels = pod.metadata.labels.as_ref();
    if let Some(index) = labels.and_then(|l| l.get("apps.kubernetes.io/pod-index")) {
        return index.parse().ok();
    }
    pod.metadata
        .name
        .as_deref()?
        .strip_prefix(sts)?
        .strip_prefix('-')?
        .parse()
        .ok()
}

fn pairs<'a>(it: impl Iterator<Item = (&'a String, &'a String)>) -> Vec<KeyValue> {
    it.map(|(k, v)| KeyValue {
        key: k.clone(),
        value: v.clone(),
    })
    .collect()
}
