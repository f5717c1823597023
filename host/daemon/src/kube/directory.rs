//! Workload identity from the cluster: a pod's labels, forwarded
//! annotations, namespace annotations and owner chain (ReplicaSet →
//! Deployment, StatefulSet with ordinal and replicas, Job, DaemonSet).
//! An owner of kind StatefulSet in any API group counts as one (OpenKruise's
//! `apps.kruise.io` Advanced StatefulSet names its pods the same way); its
//! replicas come from `apps/v1` through the cache, from other groups
//! through `owners` (discovery and the dynamic API).
//!
//! Served from reflector caches; a pod the cache has not seen yet (the
//! kubelet often calls CNI ADD before our watch delivers the new pod) is
//! read directly from the API server, as is a missing owner.

use super::annotations;
pub use super::directory_error::DirectoryError;
use super::ordinals::OwnerState;
use super::owners::OwnerReader;
use berth_core::placement::Labels;
use berth_core::record::OwnerRef;
use berth_kube::workload::{controller_of, ordinal_of};
use berth_policy_sdk::{KeyValue, StatefulSet as StsInfo};
use berth_proto::PodRef;
use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
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
    pub owner: Option<OwnerRef>,
    pub stateful_set: Option<StsInfo>,
    pub node: Option<String>,
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
    /// StatefulSet-like owners, read directly (any API group).
    owners: OwnerReader,
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
            owners: OwnerReader::new(client.clone(), handle.clone()),
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

    fn owner_of(&self, pod: &Pod) -> Result<(Option<OwnerRef>, Option<StsInfo>), DirectoryError> {
        let Some(controller) = controller_of(pod.metadata.owner_references.as_deref()) else {
            return Ok((None, None));
        };
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        match controller.kind.as_str() {
            "StatefulSet" => {
                let owner = owner(controller);
                let replicas = if owner.group() == "apps" {
                    let sts =
                        self.cached_or_get(&self.stateful_sets, &namespace, &controller.name)?;
                    sts.and_then(|s| u32::try_from(s.spec.replicas.unwrap_or(1)).ok())
                } else {
                    match self.owners.state(&namespace, &owner)? {
                        OwnerState::Live(Some(ordinals)) => Some(ordinals.replicas),
                        _ => None,
                    }
                };
                let ordinal = ordinal_of(pod, &controller.name);
                let info = ordinal.map(|ordinal| StsInfo {
                    name: controller.name.clone(),
                    ordinal,
                    replicas,
                });
                Ok((Some(owner), info))
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

    /// The pod owner as the API server has it now, in any API group (GC's
    /// read before it retires an identity; never a cache).
    pub fn owner_state(
        &self,
        namespace: &str,
        owner: &OwnerRef,
    ) -> Result<OwnerState, DirectoryError> {
        self.owners.state(namespace, owner)
    }

    /// The pod `namespace/name` with `uid` as the watch cache holds it,
    /// if it does (never for an empty `uid`: only an exact match counts).
    pub fn pod_cached(&self, namespace: &str, name: &str, uid: &str) -> Option<Pod> {
        if uid.is_empty() {
            return None;
        }
        let key = ObjectRef::new(name).within(namespace);
        let cached = self.pods.get(&key)?;
        (cached.metadata.uid.as_deref() == Some(uid)).then(|| (*cached).clone())
    }

    /// The pod `namespace/name` if it exists with `uid` (any UID when
    /// `uid` is empty), read from the API server, not the cache: GC must
    /// never free an address on stale information.
    pub fn pod_read_directly(
        &self,
        namespace: &str,
        name: &str,
        uid: &str,
    ) -> Result<Option<Pod>, DirectoryError> {
        let found = self.get_namespaced::<Pod>(namespace, name)?;
        Ok(found.filter(|p| uid.is_empty() || p.metadata.uid.as_deref() == Some(uid)))
    }

    /// The Node `name`, read from the API server (GC's check of a node's
    /// readiness before it frees the addresses of its pods).
    pub fn node_read_directly(&self, name: &str) -> Result<Option<Node>, DirectoryError> {
        let api: Api<Node> = Api::all(self.client.clone());
        let what = format!("Node/{name}");
        self.handle
            .block_on(api.get_opt(name))
            .map_err(|source| DirectoryError::Api { what, source })
    }
}

// berth-kube's `workload::owner` is the policy contract's shape; GC
// needs the apiVersion too, to read owners outside `apps`.
fn owner(r: &k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference) -> OwnerRef {
    OwnerRef {
        api_version: r.api_version.clone(),
        kind: r.kind.clone(),
        name: r.name.clone(),
        uid: r.uid.clone(),
    }
}

fn pairs<'a>(it: impl Iterator<Item = (&'a String, &'a String)>) -> Vec<KeyValue> {
    it.map(|(k, v)| KeyValue {
        key: k.clone(),
        value: v.clone(),
    })
    .collect()
}
