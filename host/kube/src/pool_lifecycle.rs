//! A BerthPool's life: the finalizer that keeps a pool holding addresses
//! until they are released, and which pools a node may hand out from.
//!
//! Every node's berthd runs this same code on its pool sync, so each step
//! is idempotent and written with the `resourceVersion` the node read as a
//! precondition: when N nodes race to add (or remove) the finalizer, one
//! write lands, the others get 409 Conflict and change nothing, and the
//! next sync sees the result. No leader, no extra component.
//!
//! * A node hands out addresses only from pools that carry the finalizer
//!   and are not being deleted: a pool is never in force without the
//!   finalizer that protects its addresses, and a deleting pool hands out
//!   nothing new (its held addresses stay with their holders).
//! * The finalizer goes when the pool is being deleted, no BerthAddress
//!   names it, and its deletion started at least `finalizer_grace_secs`
//!   ago (two pool syncs): by then every node re-read the pool and stopped
//!   handing it out, so no node that counted 0 can race an ADD still
//!   planning on the pool.

use crate::crd_pool::BerthPool;
use crate::error::KubeError;
use crate::list::list_all;
use crate::pool_admission::candidates;
use crate::retry::{with_retries, Failure};
use berth_core::pool::{PoolError, PoolSpec};
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::{Client, ResourceExt};
use std::collections::BTreeSet;

/// Kept on every BerthPool a node hands out from while it holds addresses.
pub const FINALIZER: &str = "berth.io/held-addresses";

/// The cluster's pools as a node takes them.
#[derive(Debug, Clone, Default)]
pub struct ClusterPools {
    /// Every pool's spec in precedence order, deleting ones included: they
    /// still own their addresses, so they still win overlaps.
    pub specs: Vec<Result<PoolSpec, PoolError>>,
    /// Pools nothing is handed out from: being deleted, or not yet
    /// carrying the finalizer (another node's write may be in flight).
    pub withheld: BTreeSet<String>,
}

pub fn is_deleting(pool: &BerthPool) -> bool {
    pool.metadata.deletion_timestamp.is_some()
}

pub fn has_finalizer(pool: &BerthPool) -> bool {
    pool.finalizers().iter().any(|f| f == FINALIZER)
}

/// Lists BerthPools, puts the finalizer on those that lack it, and says
/// which pools a node may hand out from.
pub async fn pools_in_force(client: &Client) -> Result<ClusterPools, KubeError> {
    let api: Api<BerthPool> = Api::all(client.clone());
    let mut pools = list_all(&api, &ListParams::default())
        .await
        .map_err(|e| request("list", "berthpools", e))?;
    for pool in pools.iter_mut() {
        if is_deleting(pool) || has_finalizer(pool) {
            continue;
        }
        let mut finalizers = pool.finalizers().to_vec();
        finalizers.push(FINALIZER.to_owned());
        if let Some(updated) = set_finalizers(&api, pool, finalizers).await {
            *pool = updated;
        }
    }
    let withheld = pools
        .iter()
        .filter(|p| is_deleting(p) || !has_finalizer(p))
        .map(ResourceExt::name_any)
        .collect();
    Ok(ClusterPools {
        specs: candidates(&pools),
        withheld,
    })
}

/// Removes the finalizer of a deleting pool that holds nothing, once its
/// deletion is `grace_secs` old. Returns whether it did.
pub async fn release_if_empty(
    api: &Api<BerthPool>,
    pool: &BerthPool,
    held: u64,
    grace_secs: u64,
) -> bool {
    let Some(since) = &pool.metadata.deletion_timestamp else {
        return false;
    };
    if held > 0 || !has_finalizer(pool) {
        return false;
    }
    let age = k8s_openapi::jiff::Timestamp::now().duration_since(since.0);
    if age.as_secs() < i64::try_from(grace_secs).unwrap_or(i64::MAX) {
        return false;
    }
    let rest = pool
        .finalizers()
        .iter()
        .filter(|f| *f != FINALIZER)
        .cloned()
        .collect();
    let released = set_finalizers(api, pool, rest).await.is_some();
    if released {
        tracing::info!(pool = %pool.name_any(), "the deleted BerthPool holds no address any more; finalizer removed");
    }
    released
}

/// Writes `finalizers` if the pool is still at the version read. A lost
/// race (409) or a pool gone (404) is the expected outcome of N nodes
/// doing the same; anything else is logged. The next sync tries again.
async fn set_finalizers(
    api: &Api<BerthPool>,
    pool: &BerthPool,
    finalizers: Vec<String>,
) -> Option<BerthPool> {
    let name = pool.name_any();
    let patch = Patch::Merge(serde_json::json!({
        "metadata": {
            "resourceVersion": pool.resource_version(),
            "finalizers": finalizers,
        }
    }));
    let params = PatchParams::default();
    match with_retries(|| api.patch(&name, &params, &patch))
        .await
        .result
    {
        Ok(updated) => Some(updated),
        Err(Failure::Api(status)) if status.code == 409 || status.code == 404 => {
            tracing::debug!(pool = %name, code = status.code, "finalizer write lost a race; the next sync re-reads");
            None
        }
        Err(error) => {
            tracing::warn!(pool = %name, %error, "writing the BerthPool's finalizer failed; retrying at the next sync");
            None
        }
    }
}

fn request(operation: &'static str, object: &str, e: Failure) -> KubeError {
    KubeError::Request {
        operation,
        object: object.to_owned(),
        message: e.to_string(),
    }
}
