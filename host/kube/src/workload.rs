//! What a pod's metadata says about its workload: its controller and,
//! for a StatefulSet pod, its ordinal. Shared by berthd (which hands the
//! answer to the policies) and `kubectl berth migrate` (which must state
//! the identity the policies would), so both read a pod the same way.

use berth_policy_sdk::Owner;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

/// The owner reference marked `controller: true`, if any.
pub fn controller_of(refs: Option<&[OwnerReference]>) -> Option<&OwnerReference> {
    refs?.iter().find(|r| r.controller == Some(true))
}

/// The policy contract's owner for an owner reference.
pub fn owner(r: &OwnerReference) -> Owner {
    Owner {
        kind: r.kind.clone(),
        name: r.name.clone(),
        uid: r.uid.clone(),
    }
}

/// The ordinal of a pod of StatefulSet `sts`: the
/// `apps.kubernetes.io/pod-index` label when set (Kubernetes ≥ 1.28),
/// else the suffix after `<statefulset>-`.
pub fn ordinal_of(pod: &Pod, sts: &str) -> Option<u32> {
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
