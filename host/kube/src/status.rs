//! Pool usage in `BerthPool.status`, recomputed from the BerthAddress
//! objects of the pool and written through the status subresource.
//!
//! Recomputing (never incrementing) keeps the count right whatever writes
//! were lost, repeated or raced: the next recompute converges. It is off
//! the allocation path, so an ADD never writes the pool object (which would
//! make it the hot object of every allocation).
//!
//! berthd counts from its allocator ([`PoolStatusWriter::recompute_all_from`]),
//! which its watch of every BerthAddress keeps current: listing a pool's
//! addresses on every sync cost each node a read of every address of the
//! cluster every `poolSyncIntervalSecs` (the kube_scale bench: 2,000
//! objects read per ADD at 100,000 addresses, and a 500 MiB peak).
//! Readers without an allocator (`kubectl berth`) list.

use crate::crd_address::BerthAddress;
use crate::crd_pool::{saturate_count, BerthPool, BerthPoolStatus};
use crate::error::KubeError;
use crate::list::list_all;
use crate::names::{label_value, LABEL_POOL};
use crate::pool_admission::judge;
use crate::pool_events::PoolEvents;
use crate::pool_health::{conditions, events, Counted};
use crate::pool_lifecycle::{is_deleting, release_if_empty};
use crate::retry::with_retries;
use berth_core::admission::Admitted;
use berth_core::pool::Pool;
use berth_core::{Holdings, Reserved};
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::{Client, ResourceExt};

/// Writes the status of BerthPools from their addresses.
#[derive(Clone)]
pub struct PoolStatusWriter {
    pools: Api<BerthPool>,
    addresses: Api<BerthAddress>,
    client: Client,
    /// berthd's: Events and the finalizer (`pool_lifecycle`). Absent for
    /// readers that only compute (`kubectl berth check`).
    steward: Option<std::sync::Arc<Steward>>,
}

/// What a node does besides the counts.
struct Steward {
    events: PoolEvents,
    /// How old a deletion must be before the finalizer goes.
    finalizer_grace_secs: u64,
}

impl PoolStatusWriter {
    pub fn new(client: Client) -> Self {
        PoolStatusWriter {
            pools: Api::all(client.clone()),
            addresses: Api::all(client.clone()),
            client,
            steward: None,
        }
    }

    /// berthd's writer: also writes pool Events (as `node`) and removes the
    /// finalizer of a deleted pool that holds nothing any more, once its
    /// deletion is `finalizer_grace_secs` old.
    pub fn stewarding(client: Client, node: &str, finalizer_grace_secs: u64) -> Self {
        let mut writer = Self::new(client.clone());
        writer.steward = Some(std::sync::Arc::new(Steward {
            events: PoolEvents::new(client, node),
            finalizer_grace_secs,
        }));
        writer
    }

    /// Recomputes and writes the status of pool `name`; returns it. The
    /// other pools are read too: validity depends on them (overlaps).
    pub async fn recompute(&self, name: &str) -> Result<BerthPoolStatus, KubeError> {
        let object = format!("berthpools/{name}");
        let pools = self.list().await?;
        let verdict = judge(&pools);
        let pool =
            pools
                .iter()
                .find(|p| p.name_any() == name)
                .ok_or_else(|| KubeError::Request {
                    operation: "get",
                    object: object.clone(),
                    message: "not found".to_owned(),
                })?;
        let reserved = self.reserved().await?;
        self.write(pool, &verdict, &reserved, None).await
    }

    /// Recomputes every pool's status from the BerthAddresses listed for
    /// each; returns them by pool name.
    pub async fn recompute_all(&self) -> Result<Vec<(String, BerthPoolStatus)>, KubeError> {
        self.recompute_all_counted(None).await
    }

    /// [`Self::recompute_all`] with each pool's held addresses as
    /// `holdings` says (berthd: from its watch-fed allocator), reading no
    /// BerthAddress.
    pub async fn recompute_all_from(
        &self,
        holdings: &(dyn Fn(&str) -> Holdings + Sync),
    ) -> Result<Vec<(String, BerthPoolStatus)>, KubeError> {
        self.recompute_all_counted(Some(holdings)).await
    }

    async fn recompute_all_counted(
        &self,
        holdings: Option<&(dyn Fn(&str) -> Holdings + Sync)>,
    ) -> Result<Vec<(String, BerthPoolStatus)>, KubeError> {
        let pools = self.list().await?;
        let verdict = judge(&pools);
        // One read of the reservations for every pool of this pass.
        let reserved = self.reserved().await?;
        let mut out = Vec::with_capacity(pools.len());
        for pool in &pools {
            out.push((
                pool.name_any(),
                self.write(pool, &verdict, &reserved, holdings).await?,
            ));
        }
        Ok(out)
    }

    async fn list(&self) -> Result<Vec<BerthPool>, KubeError> {
        list_all(&self.pools, &ListParams::default())
            .await
            .map_err(|e| request("list", "berthpools", e))
    }

    async fn reserved(&self) -> Result<Reserved, KubeError> {
        Ok(crate::crd_reserved::reserved_in_cluster(&self.client)
            .await?
            .0)
    }

    async fn write(
        &self,
        pool: &BerthPool,
        verdict: &Admitted,
        reserved: &Reserved,
        holdings: Option<&(dyn Fn(&str) -> Holdings + Sync)>,
    ) -> Result<BerthPoolStatus, KubeError> {
        let name = pool.name_any();
        let object = format!("berthpools/{name}");
        let (status, counted) = self.count(pool, verdict, reserved, holdings).await?;
        let mut body = serde_json::json!({ "status": status });
        // A merge patch leaves absent keys alone: clear a cleared reason.
        if status.invalid.is_none() {
            body["status"]["invalid"] = serde_json::Value::Null;
        }
        let patch = Patch::Merge(body);
        let params = PatchParams::default();
        with_retries(|| self.pools.patch_status(&name, &params, &patch))
            .await
            .result
            .map_err(|e| request("patch status", &object, e))?;
        if let Some(steward) = &self.steward {
            for event in events(pool, &counted) {
                steward.events.emit(pool, &event).await;
            }
            release_if_empty(
                &self.pools,
                pool,
                counted.allocated,
                steward.finalizer_grace_secs,
            )
            .await;
        }
        Ok(status)
    }

    /// The status `pool` should have now, given the verdict on all pools.
    pub async fn compute(
        &self,
        pool: &BerthPool,
        verdict: &Admitted,
    ) -> Result<BerthPoolStatus, KubeError> {
        let reserved = self.reserved().await?;
        Ok(self.count(pool, verdict, &reserved, None).await?.0)
    }

    async fn count(
        &self,
        pool: &BerthPool,
        verdict: &Admitted,
        reserved: &Reserved,
        holdings: Option<&(dyn Fn(&str) -> Holdings + Sync)>,
    ) -> Result<(BerthPoolStatus, Counted), KubeError> {
        let name = pool.name_any();
        // A deleting pool loses its finalizer once it holds nothing, so its
        // count is read from the API server, never from a node's view,
        // which a lagging watch could leave short. Deletions are rare.
        let held = match holdings {
            Some(holdings) if !is_deleting(pool) => holdings(&name),
            _ => self.listed_holdings(&name).await?,
        };
        let valid = verdict.valid.iter().find(|p| p.name == name);
        let total = valid.map_or(0, Pool::total);
        let reserved = valid.map_or(0, |p| reserved.count_in(p));
        // Outside the ranges of the pool in force: held, never handed out
        // again. (An invalid pool hands out nothing; `Valid` says so.)
        let mut orphaned: Vec<std::net::IpAddr> = valid
            .map(|p| {
                held.orphaned
                    .iter()
                    .copied()
                    .filter(|a| !p.is_assignable(*a))
                    .collect()
            })
            .unwrap_or_default();
        orphaned.sort_unstable();
        let invalid = verdict
            .invalid
            .iter()
            .find(|e| e.pool == name)
            .map(ToString::to_string);
        let counted = Counted {
            allocated: held.held,
            orphaned,
            invalid,
            deleting: is_deleting(pool),
        };
        let status = BerthPoolStatus {
            allocated: saturate_count(counted.allocated),
            total: saturate_count(total),
            reserved: saturate_count(reserved),
            orphaned: saturate_count(u64::try_from(counted.orphaned.len()).unwrap_or(u64::MAX)),
            conditions: conditions(pool, &counted),
            invalid: counted.invalid.clone(),
        };
        Ok((status, counted))
    }
}

impl PoolStatusWriter {
    /// The BerthAddresses naming `pool`, read from the API server. Every
    /// address that parses is a candidate orphan; `count` keeps those the
    /// pool in force does not assign.
    async fn listed_holdings(&self, pool: &str) -> Result<Holdings, KubeError> {
        let selector = ListParams::default().labels(&format!("{LABEL_POOL}={}", label_value(pool)));
        let listed = list_all(&self.addresses, &selector)
            .await
            .map_err(|e| request("list", "berthaddresses", e))?;
        // The label may be a shortened hash of a long name: count only the
        // objects that really name this pool.
        let held: Vec<&BerthAddress> = listed.iter().filter(|a| a.spec.pool == pool).collect();
        Ok(Holdings {
            held: u64::try_from(held.len()).unwrap_or(u64::MAX),
            orphaned: held
                .iter()
                .filter_map(|a| a.spec.address.parse().ok())
                .collect(),
        })
    }
}

/// Every BerthPool as the core's pool configuration, in precedence order
/// (oldest first), each on its own: one that cannot be read is an error in
/// its place, not a failure of the whole list. Not yet validated:
/// `Pool::from_spec` and `berth_core::admission` do that.
pub async fn pools_from_cluster(
    client: &Client,
) -> Result<Vec<Result<berth_core::pool::PoolSpec, berth_core::pool::PoolError>>, KubeError> {
    let api: Api<BerthPool> = Api::all(client.clone());
    let pools = list_all(&api, &ListParams::default())
        .await
        .map_err(|e| request("list", "berthpools", e))?;
    Ok(crate::pool_admission::candidates(&pools))
}

fn request(operation: &'static str, object: &str, e: crate::retry::Failure) -> KubeError {
    KubeError::Request {
        operation,
        object: object.to_owned(),
        message: e.to_string(),
    }
}
