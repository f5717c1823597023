//! Starting Kubernetes mode and its background loops (pool sync, GC).

use super::directory::Directory;
use super::gc::{
    adopted_nodes, live_nodes, ClusterView, Collector, GcAction, GcTimes, LivePod, NodeHealth,
};
use super::ordinals::OwnerState;
use super::KubernetesConfig;
use crate::cluster::ReleaseCause;
use crate::service::{now_unix_secs, Service};
use anyhow::Context;
use berth_core::record::OwnerRef;
use berth_core::Reserved;
use berth_kube::crd_reserved::reserved_in_cluster;
use berth_kube::pool_lifecycle::{pools_in_force, ClusterPools};
use berth_kube::{KubeStore, PoolStatusWriter};
use k8s_openapi::api::core::v1::Node;
use kube::{Api, Client};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::watch;

pub struct KubeParts {
    pub client: Client,
    pub store: KubeStore,
    pub directory: Directory,
    /// Every BerthPool in precedence order, each readable or not, and
    /// those nothing is handed out from (deleting, no finalizer yet).
    pub pools: ClusterPools,
    /// Every readable BerthReservedIP together.
    pub reserved: Reserved,
}

pub async fn client(config: &KubernetesConfig) -> anyhow::Result<Client> {
    let kube_config = match &config.api_server_url {
        Some(url) => kube::Config::new(
            url.parse()
                .context("kubernetes.apiServerUrl is not a URL")?,
        ),
        None => kube::Config::infer()
            .await
            .context("no in-cluster config or KUBECONFIG")?,
    };
    Client::try_from(kube_config).context("building the Kubernetes client")
}

/// Connects and reads what start-up needs: pools and a warm directory.
pub fn start(config: &KubernetesConfig, node: &str, handle: &Handle) -> anyhow::Result<KubeParts> {
    let client = handle.block_on(client(config))?;
    let pools = handle
        .block_on(pools_in_force(&client))
        .context("listing BerthPools")?;
    let reserved = handle
        .block_on(reserved_in_cluster(&client))
        .context("listing BerthReservedIPs")?;
    log_reserved_problems(&reserved.1);
    let reserved = reserved.0;
    let store = KubeStore::new(client.clone(), node, handle.clone());
    let directory = Directory::start(client.clone(), handle.clone(), node);
    Ok(KubeParts {
        client,
        store,
        directory,
        pools,
        reserved,
    })
}

/// A BerthReservedIP berthd cannot read (the CRD's rules refuse most of
/// them at apply time) is left out whole; say which and why.
fn log_reserved_problems(problems: &[String]) {
    for problem in problems {
        tracing::warn!(%problem, "BerthReservedIP not used");
    }
}

/// Re-reads BerthPools (adding the finalizer where it is missing) and
/// BerthReservedIPs, and recomputes the pools' status, Events and, for a
/// deleted pool that holds nothing, the finalizer's removal.
pub async fn sync_pools(
    service: Arc<Service>,
    client: Client,
    node: String,
    every_secs: u64,
    mut stop: watch::Receiver<bool>,
) {
    // Two syncs: every node has stopped handing a deleted pool out by then.
    let writer = PoolStatusWriter::stewarding(client.clone(), &node, 2 * every_secs);
    let mut tick = tokio::time::interval(Duration::from_secs(every_secs));
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {
                let listed = match (pools_in_force(&client).await, reserved_in_cluster(&client).await) {
                    (Ok(pools), Ok((reserved, problems))) => {
                        log_reserved_problems(&problems);
                        Ok((pools, reserved))
                    }
                    (Err(error), _) | (_, Err(error)) => Err(error),
                };
                match listed {
                    Ok((pools, reserved)) => {
                        let service = service.clone();
                        match tokio::task::spawn_blocking(move || service.replace_pools(&pools, reserved)).await {
                            Ok(Ok(())) => {}
                            Ok(Err(error)) => tracing::warn!(%error, "BerthPools refused; keeping the pools in force"),
                            Err(error) => tracing::error!(%error, "pool sync task failed"),
                        }
                    }
                    Err(error) => tracing::warn!(%error, "listing BerthPools or BerthReservedIPs failed"),
                }
                // Counted from this node's allocator, which the watch keeps
                // current: no BerthAddress is read. (Off the async workers:
                // the allocator's lock is held across commits.)
                let holder = service.clone();
                let held = match tokio::task::spawn_blocking(move || holder.holdings()).await {
                    Ok(Ok(held)) => held,
                    Ok(Err(error)) => {
                        tracing::warn!(message = %error.message, "pool status not updated");
                        continue;
                    }
                    Err(error) => {
                        tracing::error!(%error, "pool status task failed");
                        continue;
                    }
                };
                let of = |pool: &str| held.get(pool).cloned().unwrap_or_default();
                if let Err(error) = writer.recompute_all_from(&of).await {
                    tracing::warn!(%error, "pool status update failed");
                }
            }
        }
    }
}

struct Cluster<'a> {
    directory: &'a Directory,
}

impl ClusterView for Cluster<'_> {
    fn pod(&self, namespace: &str, name: &str, uid: &str) -> anyhow::Result<Option<LivePod>> {
        // A pod the watch cache holds, neither finished nor terminating,
        // is alive: a stale entry can only delay GC, never free an
        // address. Anything that could free one (absence, a terminal
        // phase, a deletion) is read from the API server, so a GC pass
        // costs one read per suspect, not one per pod of the node.
        if let Some(cached) = self.directory.pod_cached(namespace, name, uid) {
            let live = LivePod::of(&cached);
            if !live.finished() && live.deletion_deadline_unix_secs.is_none() {
                return Ok(Some(live));
            }
        }
        let pod = self.directory.pod_read_directly(namespace, name, uid)?;
        Ok(pod.as_ref().map(LivePod::of))
    }

    fn node_health(&self, name: &str) -> anyhow::Result<NodeHealth> {
        let node = self.directory.node_read_directly(name)?;
        Ok(NodeHealth::of(node.as_ref()))
    }

    fn owner(&self, namespace: &str, owner: &OwnerRef) -> anyhow::Result<OwnerState> {
        Ok(self.directory.owner_state(namespace, owner)?)
    }
}

/// The GC loop; see `gc` for the rules.
pub async fn collect_garbage(
    service: Arc<Service>,
    client: Client,
    node: String,
    interval_secs: u64,
    times: GcTimes,
    mut stop: watch::Receiver<bool>,
) {
    let collector = Arc::new(std::sync::Mutex::new(Collector::default()));
    let mut tick = tokio::time::interval(Duration::from_secs(interval_secs));
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {
                // NotReady nodes count as dead: their records are adopted.
                let nodes: BTreeSet<String> = match Api::<Node>::all(client.clone()).list(&Default::default()).await {
                    Ok(list) => live_nodes(&list.items),
                    Err(error) => {
                        tracing::warn!(%error, "GC could not list nodes; skipping this pass");
                        continue;
                    }
                };
                let (service, collector, node) = (service.clone(), collector.clone(), node.clone());
                let pass = tokio::task::spawn_blocking(move || gc_pass(&service, &collector, &node, &nodes, times));
                if let Err(error) = pass.await {
                    tracing::error!(%error, "GC task failed");
                }
            }
        }
    }
}

fn gc_pass(
    service: &Service,
    collector: &std::sync::Mutex<Collector>,
    node: &str,
    nodes: &BTreeSet<String>,
    times: GcTimes,
) {
    // Refresh first: GC must judge the cluster's records, not a stale copy.
    if let Err(error) = service.resync() {
        tracing::warn!(message = %error.message, "GC could not refresh records; skipping this pass");
        return;
    }
    let Some(directory) = service.directory() else {
        return;
    };
    let records = service.records_snapshot();
    service.adopt_nodes(adopted_nodes(&records, node, nodes));
    let actions = match collector.lock() {
        Ok(mut c) => c.pass(
            &records,
            node,
            nodes,
            &Cluster { directory },
            times,
            now_unix_secs(),
        ),
        Err(_) => return,
    };
    for action in actions {
        let result = match &action {
            GcAction::Release(attachment) => service.gc_release(attachment, ReleaseCause::PodGone),
            GcAction::ReleaseZombie { attachment, .. } => {
                service.gc_release(attachment, ReleaseCause::Zombie)
            }
            GcAction::Retire(identity) => service.gc_retire(identity),
        };
        match (result, &action) {
            (
                Ok(n),
                GcAction::ReleaseZombie {
                    attachment,
                    pod,
                    why,
                },
            ) => tracing::info!(
                %pod,
                container = %attachment.container_id,
                ifname = %attachment.ifname,
                %why,
                changed = n,
                "released the address of a zombie pod, as its DEL would have"
            ),
            (Ok(n), _) => tracing::info!(?action, released = n, "garbage collected"),
            (Err(error), _) => {
                tracing::warn!(?action, message = %error.message, "GC action failed; will retry")
            }
        }
    }
}
