//! `kubectl berth release`: berthd's operator release, through the API.
//!
//! The plan is the allocator's own (`plan_release`, `plan_retire_identity`
//! over the records read), and it is written by `KubeStore`, the daemon's
//! store: a delete carries the resourceVersion and uid it was read at, a
//! replace the resourceVersion, so anything a node changed in between
//! fails the release with a conflict instead of being overwritten.

use crate::explain;
use crate::read::Held;
use anyhow::{bail, Context};
use berth_core::describe;
use berth_core::record::{AddressRecord, Mutation, RecordState};
use berth_core::store::StoreError;
use berth_core::Allocator;
use berth_kube::KubeStore;
use berth_policy_sdk::Retention;
use kube::Client;
use std::fmt::Write as _;
use std::net::IpAddr;

/// Written as the writer of records that name no node (none do today).
const WRITER: &str = "kubectl-berth";

/// Releases `address` (of `pool`, when several pools hold it).
pub async fn address(
    client: &Client,
    address: &str,
    pool: Option<&str>,
    force: bool,
) -> anyhow::Result<String> {
    let ip: IpAddr = address
        .parse()
        .map_err(|_| anyhow::anyhow!("{address:?} is not an IP address"))?;
    let found: Vec<Held> = explain::find(client, &ip.to_string())
        .await?
        .into_iter()
        .filter(|h| pool.is_none_or(|p| h.object.spec.pool == p))
        .collect();
    let h = match found.as_slice() {
        [] => match pool {
            Some(p) => bail!("no BerthAddress holds {ip} in pool {p}: nothing to release"),
            None => bail!("no BerthAddress holds {ip}: nothing to release"),
        },
        [one] => one,
        many => bail!(
            "{ip} is held in several pools ({}); name one with --pool",
            many.iter()
                .map(|h| h.object.spec.pool.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    held(client, h, force).await
}

/// Releases the address of `h`, as it was read: if a node changed or
/// re-created the object since, the release fails and nothing changes.
pub async fn held(client: &Client, h: &Held, force: bool) -> anyhow::Result<String> {
    let ip = &h.object.spec.address;
    let record = h.record.as_ref().map_err(|e| {
        anyhow::anyhow!(
            "berthaddresses/{} cannot be read as berthd reads it ({e}), so it cannot be \
             released by plan; after making sure nothing uses {ip}, delete the object: \
             kubectl delete berthaddress {}",
            h.name(),
            h.name()
        )
    })?;
    let broken = record.is_attached().then(|| what_it_breaks(record));
    if let (Some(breaks), false) = (&broken, force) {
        bail!("refused: {breaks}\nPass --force to release it anyway.");
    }
    let allocator = restored(vec![record.clone()])?;
    let mutations = allocator
        .plan_release(&record.pool, record.address)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    write(client, std::slice::from_ref(&h.object), &mutations).await?;
    let mut out = format!("released {} (pool {})\n", record.address, record.pool);
    if let Some(breaks) = broken {
        let _ = writeln!(out, "forced: {breaks}");
    }
    Ok(out)
}

/// Retires identity `key` as `berthd release --identity` does.
pub async fn identity(client: &Client, key: &str, now: u64) -> anyhow::Result<String> {
    let held = explain::find_identity(client, key).await?;
    if held.is_empty() {
        bail!("identity {key} holds no address: nothing to release");
    }
    let mut records = Vec::with_capacity(held.len());
    for h in &held {
        match &h.record {
            Ok(r) => records.push(r.clone()),
            Err(e) => bail!(
                "berthaddresses/{} of identity {key} cannot be read as berthd reads it ({e}); \
                 fix or delete it first (kubectl berth check lists it)",
                h.name()
            ),
        }
    }
    let allocator = restored(records)?;
    let mutations = allocator.plan_retire_identity(key, now);
    if mutations.is_empty() {
        return Ok(format!(
            "identity {key} holds {} address(es), none kept until retirement: nothing to change\n",
            held.len()
        ));
    }
    let objects: Vec<_> = held.iter().map(|h| h.object.clone()).collect();
    write(client, &objects, &mutations).await?;
    let mut out = format!("retired identity {key}\n");
    for m in &mutations {
        let _ = writeln!(out, "  {}", retirement(m, now));
    }
    Ok(out)
}

/// An allocator holding just `records` (no pools needed to plan releases).
fn restored(records: Vec<AddressRecord>) -> anyhow::Result<Allocator> {
    let mut allocator = Allocator::default();
    allocator
        .restore(records)
        .map_err(|e| anyhow::anyhow!("the records contradict each other: {e}"))?;
    Ok(allocator)
}

/// Writes `mutations` over `objects` as they were read.
async fn write(
    client: &Client,
    objects: &[berth_kube::BerthAddress],
    mutations: &[Mutation],
) -> anyhow::Result<()> {
    let store = KubeStore::new(client.clone(), WRITER, tokio::runtime::Handle::current());
    store.adopt(objects);
    match store.apply_async(mutations).await {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict { message }) => bail!(
            "nothing released: the object changed since it was read ({message}); \
             look again with kubectl berth explain"
        ),
        Err(e) => Err(e).context("nothing released"),
    }
}

/// What releasing an attached record breaks, in words.
pub fn what_it_breaks(r: &AddressRecord) -> String {
    let container = r
        .attachment
        .as_ref()
        .map_or("?", |a| a.container_id.get(..12).unwrap_or(&a.container_id));
    let mut text = format!(
        "{} is attached to pod {}/{} (container {container}, {} on node {}). Releasing it \
         leaves that pod running with the address while Berth hands it out again: the next \
         pod to get it clashes with it on the network, and the pod's DEL finds nothing to free.",
        r.address, r.pod.namespace, r.pod.name, r.interface, r.node
    );
    if let Some(key) = r.identity_key() {
        let _ = write!(
            text,
            " Identity {key} loses it: a re-created pod gets a different address."
        );
    }
    text
}

fn retirement(m: &Mutation, now: u64) -> String {
    match m {
        Mutation::Remove { pool, address } => format!("released {address} (pool {pool})"),
        Mutation::Put(r) => match (&r.state, r.retention()) {
            (
                RecordState::Retained {
                    expires_at_unix_secs: Some(at),
                    ..
                },
                _,
            ) => format!(
                "{} (pool {}) is freed in {}s",
                r.address,
                r.pool,
                at.saturating_sub(now)
            ),
            (RecordState::Attached, Retention::KeepForSecs(s)) => format!(
                "{} (pool {}) stays with pod {}/{} and is freed {s}s after its DEL",
                r.address, r.pool, r.pod.namespace, r.pod.name
            ),
            (_, retention) => format!(
                "{} (pool {}) now: {}",
                r.address,
                r.pool,
                describe::retention(retention)
            ),
        },
    }
}
