//! Which resources the stand-in serves: group, version, kind, plural, scope and
//! whether they have a `/status` subresource.

use std::collections::HashMap;

/// Group/version/plural: the key of a resource type in URLs and in the store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gvr {
    /// API group, `""` for the core group (`/api/v1`).
    pub group: String,
    /// API version, e.g. `v1`.
    pub version: String,
    /// Plural resource name, e.g. `pods`.
    pub plural: String,
}

impl Gvr {
    /// Build a key from its parts.
    pub fn new(group: &str, version: &str, plural: &str) -> Self {
        Self {
            group: group.to_owned(),
            version: version.to_owned(),
            plural: plural.to_owned(),
        }
    }
}

/// A served resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceDef {
    /// API group, `""` for core.
    pub group: String,
    /// API version.
    pub version: String,
    /// Kind, e.g. `Pod`.
    pub kind: String,
    /// Plural resource name, e.g. `pods`.
    pub plural: String,
    /// Namespaced (`true`) or cluster-scoped (`false`).
    pub namespaced: bool,
    /// Has a `/status` subresource: the main resource's writes then keep the
    /// stored `.status`, and `/status` writes change nothing but `.status`.
    pub status_subresource: bool,
}

impl ResourceDef {
    /// A resource definition; `status_subresource` defaults to `true`.
    pub fn new(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> Self {
        Self {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: kind.to_owned(),
            plural: plural.to_owned(),
            namespaced,
            status_subresource: true,
        }
    }

    /// Berth's own kinds (berth.io/v1alpha1, cluster-scoped, with status):
    /// BerthPool, BerthReservedIP and BerthAddress, as berthd reads them.
    pub fn berth_kinds() -> [Self; 3] {
        [
            ("BerthPool", "berthpools"),
            ("BerthReservedIP", "berthreservedips"),
            ("BerthAddress", "berthaddresses"),
        ]
        .map(|(kind, plural)| Self::new("berth.io", "v1alpha1", kind, plural, false))
    }

    /// Set whether the resource has a `/status` subresource.
    pub fn with_status_subresource(mut self, on: bool) -> Self {
        self.status_subresource = on;
        self
    }

    /// `apiVersion` as written in objects: `v1` or `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The store key of this type.
    pub fn gvr(&self) -> Gvr {
        Gvr::new(&self.group, &self.version, &self.plural)
    }
}

/// The set of served resource types.
#[derive(Debug, Clone)]
pub(crate) struct Registry {
    defs: HashMap<Gvr, ResourceDef>,
}

impl Registry {
    /// Built-in types: the core and apps resources Berth touches, and leases.
    pub(crate) fn with_builtins() -> Self {
        let mut r = Self {
            defs: HashMap::new(),
        };
        let b = |g, v, k, p, ns, st| ResourceDef::new(g, v, k, p, ns).with_status_subresource(st);
        for def in [
            b("", "v1", "Pod", "pods", true, true),
            b("", "v1", "Node", "nodes", false, true),
            b("", "v1", "Namespace", "namespaces", false, true),
            b("", "v1", "ConfigMap", "configmaps", true, false),
            b("", "v1", "Secret", "secrets", true, false),
            b("", "v1", "Service", "services", true, true),
            b("", "v1", "Event", "events", true, false),
            b("apps", "v1", "StatefulSet", "statefulsets", true, true),
            b("apps", "v1", "ReplicaSet", "replicasets", true, true),
            b("apps", "v1", "Deployment", "deployments", true, true),
            b("apps", "v1", "DaemonSet", "daemonsets", true, true),
            b("coordination.k8s.io", "v1", "Lease", "leases", true, false),
        ] {
            r.insert(def);
        }
        r
    }

    pub(crate) fn insert(&mut self, def: ResourceDef) {
        self.defs.insert(def.gvr(), def);
    }

    pub(crate) fn get(&self, gvr: &Gvr) -> Option<&ResourceDef> {
        self.defs.get(gvr)
    }
}
