//! Writing a plan without conflicts: BerthReservedIPs first (no node may
//! see a migrated pool without its reservations), then BerthPools (an
//! address is only handed out from a pool berthd knows), then every BerthAddress in
//! one batch through `KubeStore`, the daemon's own store: each is a
//! create, so an address someone took meanwhile fails the batch (and the
//! batch's creates are deleted again) instead of gaining a second owner.

use super::model::{Plan, Write};
use anyhow::{bail, Context};
use berth_core::record::Mutation;
use berth_core::store::StoreError;
use berth_kube::{BerthPool, BerthReservedIP, KubeStore};
use kube::api::{Api, PostParams};
use kube::{Client, ResourceExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;

/// Recorded as the writer of records that name no node (none do).
const WRITER: &str = "kubectl-berth-migrate";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Written {
    pub reserved: usize,
    pub pools: usize,
    pub addresses: usize,
}

pub async fn write(client: &Client, plan: &Plan) -> anyhow::Result<Written> {
    assert!(
        plan.conflicts.is_empty(),
        "a plan with conflicts is never written"
    );
    let mut written = Written::default();
    let reserved_api: Api<BerthReservedIP> = Api::all(client.clone());
    for step in plan.creates() {
        if let Some(Write::Reserved(object)) = &step.write {
            create_same(&reserved_api, object, |a, b| a.spec == b.spec).await?;
            written.reserved += 1;
        }
    }
    let api: Api<BerthPool> = Api::all(client.clone());
    let mut puts = Vec::new();
    for step in plan.creates() {
        match &step.write {
            Some(Write::Reserved(_)) => {}
            Some(Write::Pool(pool)) => {
                create_same(&api, pool, |a, b| a.spec == b.spec).await?;
                written.pools += 1;
            }
            Some(Write::Address(record)) => puts.push(Mutation::Put((**record).clone())),
            None => {}
        }
    }
    if puts.is_empty() {
        return Ok(written);
    }
    let store = KubeStore::new(client.clone(), WRITER, tokio::runtime::Handle::current());
    match store.apply_async(&puts).await {
        Ok(()) => {}
        Err(StoreError::Conflict { message }) => bail!(
            "an address was taken in Berth while migrating ({message}); no BerthAddress of \
             this run was kept: run the migration again to see who holds it"
        ),
        Err(e) => return Err(e).context("writing BerthAddresses; none of this run was kept"),
    }
    written.addresses = puts.len();
    Ok(written)
}

/// Creates `object`; one created meanwhile with the same spec is fine.
async fn create_same<K>(
    api: &Api<K>,
    object: &K,
    same: impl Fn(&K, &K) -> bool,
) -> anyhow::Result<()>
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + Debug,
{
    let name = object.name_any();
    let plural = K::plural(&());
    match api.create(&PostParams::default(), object).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => {
            let current = api
                .get(&name)
                .await
                .with_context(|| format!("reading {plural}/{name}"))?;
            if same(&current, object) {
                Ok(())
            } else {
                bail!("{plural}/{name} was created meanwhile with another spec; run the migration again")
            }
        }
        Err(e) => Err(e).with_context(|| format!("creating {plural}/{name}")),
    }
}
