//! Reading a pod's StatefulSet-like owner from the API server, whatever
//! its API group: `apps/v1` StatefulSets through their typed API, others
//! (OpenKruise's `apps.kruise.io` Advanced StatefulSet) through discovery
//! and the dynamic API, from the group and version the pod's
//! ownerReference names. A kind Berth cannot read (not in discovery, or
//! forbidden by RBAC) is `Unreadable` — never a reason to retire — and
//! logged once per kind.

use super::directory_error::DirectoryError;
use super::ordinals::{Ordinals, OwnerState};
use berth_core::record::OwnerRef;
use berth_kube::limits::OWNER_DISCOVERY_RETRY_SECS;
use k8s_openapi::api::apps::v1::StatefulSet;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::discovery::{pinned_kind, Scope};
use kube::{Api, Client};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::runtime::Handle;

/// What discovery said of one owner kind.
#[derive(Clone)]
enum Resolved {
    Found {
        resource: ApiResource,
        namespaced: bool,
    },
    /// Not served by the API server (checked at that instant).
    Missing(Instant),
}

pub struct OwnerReader {
    client: Client,
    handle: Handle,
    resolved: Mutex<HashMap<String, Resolved>>,
    /// Owner kinds already logged as unreadable.
    logged: Mutex<HashSet<String>>,
}

impl OwnerReader {
    pub fn new(client: Client, handle: Handle) -> Self {
        OwnerReader {
            client,
            handle,
            resolved: Mutex::default(),
            logged: Mutex::default(),
        }
    }

    /// The owner as the API server has it now (never a cache: GC decides
    /// on it). Blocking: call from a blocking thread.
    pub fn state(&self, namespace: &str, owner: &OwnerRef) -> Result<OwnerState, DirectoryError> {
        if owner.group() == "apps" && owner.kind == "StatefulSet" {
            return self.apps_stateful_set(namespace, &owner.name);
        }
        let gvk = GroupVersionKind::gvk(owner.group(), owner.version(), &owner.kind);
        let Some((resource, namespaced)) = self.resolve(&gvk, false)? else {
            return Ok(self.unreadable(
                owner,
                "not served by the API server (no such kind in discovery)",
            ));
        };
        let api: Api<DynamicObject> = if namespaced {
            Api::namespaced_with(self.client.clone(), namespace, &resource)
        } else {
            Api::all_with(self.client.clone(), &resource)
        };
        let what = format!("{} {namespace}/{}", kind_name(owner), owner.name);
        match self.handle.block_on(api.get_opt(&owner.name)) {
            Ok(Some(object)) => Ok(OwnerState::Live(
                object.data.get("spec").and_then(Ordinals::from_spec),
            )),
            // A 404 also answers a request for a kind the API server no
            // longer serves: only an owner whose kind is still served is gone.
            Ok(None) => match self.resolve(&gvk, true)? {
                Some(_) => Ok(OwnerState::Gone),
                None => Ok(self.unreadable(owner, "no longer served by the API server")),
            },
            Err(kube::Error::Api(status)) if status.code == 403 => {
                Ok(self.unreadable(owner, &format!("forbidden: {}", status.message)))
            }
            // A path the API server does not serve answers a bare 404 (an
            // object it serves and does not have is the `None` above).
            Err(kube::Error::Api(status)) if status.code == 404 => {
                self.resolve(&gvk, true)?;
                Ok(self.unreadable(owner, "not served by the API server"))
            }
            Err(source) => Err(DirectoryError::Api { what, source }),
        }
    }

    fn apps_stateful_set(&self, namespace: &str, name: &str) -> Result<OwnerState, DirectoryError> {
        let api: Api<StatefulSet> = Api::namespaced(self.client.clone(), namespace);
        let what = format!("StatefulSet/{namespace}/{name}");
        let found = self
            .handle
            .block_on(api.get_opt(name))
            .map_err(|source| DirectoryError::Api { what, source })?;
        Ok(match found {
            None => OwnerState::Gone,
            Some(sts) => OwnerState::Live(Some(Ordinals {
                replicas: u32::try_from(sts.spec.replicas.unwrap_or(1)).unwrap_or(0),
                start: sts
                    .spec
                    .ordinals
                    .and_then(|o| o.start)
                    .and_then(|s| u32::try_from(s).ok())
                    .unwrap_or(0),
                reserved: Vec::new(),
            })),
        })
    }

    /// The resource serving `gvk` and whether it is namespaced; `None`
    /// when discovery does not know it. A kind found missing is asked for
    /// again after `OWNER_DISCOVERY_RETRY_SECS` (or at once when `fresh`):
    /// a CRD installed later is picked up.
    fn resolve(
        &self,
        gvk: &GroupVersionKind,
        fresh: bool,
    ) -> Result<Option<(ApiResource, bool)>, DirectoryError> {
        let key = format!("{}/{}/{}", gvk.group, gvk.version, gvk.kind);
        let known = self.resolved.lock().ok().and_then(|m| m.get(&key).cloned());
        let retry = Duration::from_secs(OWNER_DISCOVERY_RETRY_SECS);
        match known {
            Some(Resolved::Found {
                resource,
                namespaced,
            }) if !fresh => return Ok(Some((resource, namespaced))),
            Some(Resolved::Missing(at)) if !fresh && at.elapsed() < retry => return Ok(None),
            _ => {}
        }
        let resolved = match self.handle.block_on(pinned_kind(&self.client, gvk)) {
            Ok((resource, caps)) => Resolved::Found {
                resource,
                namespaced: caps.scope == Scope::Namespaced,
            },
            // An unknown group or version answers a bare 404 page, not a
            // Status; a known one without the kind, a discovery error.
            Err(kube::Error::Discovery(_)) => Resolved::Missing(Instant::now()),
            Err(kube::Error::Api(status)) if status.code == 404 => {
                Resolved::Missing(Instant::now())
            }
            Err(source) => {
                return Err(DirectoryError::Api {
                    what: format!("discovery of {key}"),
                    source,
                })
            }
        };
        if let Ok(mut map) = self.resolved.lock() {
            map.insert(key, resolved.clone());
        }
        Ok(match resolved {
            Resolved::Found {
                resource,
                namespaced,
            } => Some((resource, namespaced)),
            Resolved::Missing(_) => None,
        })
    }

    /// Logs, once per owner kind, why its owners cannot be read.
    fn unreadable(&self, owner: &OwnerRef, why: &str) -> OwnerState {
        let kind = kind_name(owner);
        let first = self
            .logged
            .lock()
            .map(|mut logged| logged.insert(kind.clone()))
            .unwrap_or(true);
        if first {
            tracing::warn!(
                owner_kind = %kind,
                reason = %why,
                "cannot read pod owners of this kind: their retained addresses are never retired by GC (grant berthd get on them, or release the addresses with `berthd release`)"
            );
        }
        OwnerState::Unreadable
    }
}

/// "StatefulSet.apps.kruise.io/v1beta1".
fn kind_name(owner: &OwnerRef) -> String {
    let group = owner.group();
    if group.is_empty() {
        format!("{}/{}", owner.kind, owner.version())
    } else {
        format!("{}.{group}/{}", owner.kind, owner.version())
    }
}
