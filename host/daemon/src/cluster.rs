//! The service's Kubernetes-mode operations: workload identity for an ADD,
//! re-reading records other nodes changed, GC actions and pool updates.

use crate::kube::annotations;
use crate::kube::directory::DirectoryError;
use crate::metrics::ReleaseKind;
use crate::pod_request::PodRequest;
use crate::service::{fail, now_unix_secs, removed, Service};
use berth_core::allocator::AddInput;
use berth_core::placement::Placement;
use berth_core::pool::Pool;
use berth_core::record::AddressRecord;
use berth_kube::network_annotations;
use berth_kube::pool_lifecycle::ClusterPools;
use berth_proto::{AddRequest, Attachment, ErrorBody, ErrorKind};

/// Why GC releases an attachment; counted apart in `berth_releases_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseCause {
    /// No pod with its UID exists (`cause="gc"`).
    PodGone,
    /// Its pod exists but finished, or is stuck Terminating on a dead
    /// node (`cause="zombie"`).
    Zombie,
}

impl Service {
    pub fn directory(&self) -> Option<&crate::kube::directory::Directory> {
        self.directory.as_ref()
    }

    /// Fills what the cluster knows of the pod into `input`: labels,
    /// forwarded annotations, owner, StatefulSet ordinal and replicas, the
    /// pools its annotations (or its namespace's) name, and the namespace
    /// and node labels pool selectors are matched against. Returns the
    /// pools asked for and what the pod asks of its interface's routes
    /// (its annotations over the CNI config; single host: the CNI
    /// config). Blocking; runs before the allocator lock is taken.
    pub(crate) fn describe_workload(
        &self,
        add: &AddRequest,
        input: &mut AddInput,
    ) -> Result<PodRequest, ErrorBody> {
        let mut request = PodRequest::from_cni_config(add);
        let Some(directory) = &self.directory else {
            return Ok(request);
        };
        let unavailable = |e: DirectoryError| fail(ErrorKind::TryAgainLater, e.to_string());
        let workload = directory.workload(&add.pod).map_err(unavailable)?;
        // The namespace was read with the pod when there is one.
        let namespace_labels = match &workload {
            Some(w) => w.namespace_labels.clone(),
            None => directory
                .namespace_labels(&add.pod.namespace)
                .map_err(unavailable)?,
        };
        input.placement = Some(Placement {
            namespace: add.pod.namespace.clone(),
            namespace_labels,
            node: self.node.clone(),
            node_labels: directory.node_labels(&self.node).map_err(unavailable)?,
        });
        let Some(workload) = workload else {
            // No such pod (yet): a plain runtime or a race with the API
            // server; allocate as a stateless workload from the CNI config.
            tracing::info!(pod = %add.pod.name, "pod not found in the cluster; treating it as stateless");
            return Ok(request);
        };
        let invalid =
            |e: annotations::AnnotationError| fail(ErrorKind::InvalidConfig, e.to_string());
        let selection = annotations::pools_for(
            &workload.pod_annotations,
            &workload.namespace_annotations,
            &add.attachment.ifname,
            &add.pools,
        )
        .map_err(invalid)?;
        let pod_wide =
            network_annotations::clean_gateway(&workload.pod_annotations).map_err(invalid)?;
        let network = &mut request.network;
        network.clean_gateway = selection.clean_gateway.or(pod_wide).or(add.clean_gateway);
        network.routes = network_annotations::routes(&workload.pod_annotations).map_err(invalid)?;
        request.pools = selection.pools;
        input.labels = workload.labels;
        input.annotations = workload.annotations;
        input.owner = workload.owner;
        input.stateful_set = workload.stateful_set;
        if input.pod.uid.is_empty() {
            input.pod.uid = workload.uid;
        }
        Ok(request)
    }

    /// Brings the allocator up to date with what other nodes wrote (see
    /// `crate::kube::refresh`). The allocator stays locked throughout: a
    /// commit of this node landing between the read and the swap would
    /// otherwise be forgotten, and its address handed out again.
    pub fn resync(&self) -> Result<(), ErrorBody> {
        let mut allocator = self.lock()?;
        self.refresh_locked(&mut allocator)
    }

    pub fn records_snapshot(&self) -> Vec<AddressRecord> {
        self.lock()
            .map(|a| a.records().collect())
            .unwrap_or_default()
    }

    /// Dead nodes whose records this node now collects and expires.
    pub fn adopt_nodes(&self, nodes: std::collections::BTreeSet<String>) {
        match self.adopted_nodes.lock() {
            Ok(mut adopted) => {
                if *adopted != nodes {
                    tracing::info!(?nodes, "collecting the records of dead nodes");
                }
                *adopted = nodes;
            }
            Err(_) => tracing::error!("adopted node set poisoned; expiring own records only"),
        }
    }

    /// GC: the pod of `attachment` is gone, or a zombie; treat it like
    /// its DEL (a sticky identity stays retained per its retention).
    pub fn gc_release(
        &self,
        attachment: &Attachment,
        cause: ReleaseCause,
    ) -> Result<u64, ErrorBody> {
        let mutations = self.commit_fresh(None, |a| a.plan_del(attachment, now_unix_secs()))?;
        let kind = match cause {
            ReleaseCause::PodGone => ReleaseKind::Gc,
            ReleaseCause::Zombie => ReleaseKind::Zombie,
        };
        self.metrics.released(kind, removed(&mutations));
        Ok(mutations.len() as u64)
    }

    /// GC: the identity's owner no longer wants it; its hold starts now.
    pub fn gc_retire(&self, identity: &str) -> Result<u64, ErrorBody> {
        let mutations =
            self.commit_fresh(None, |a| a.plan_retire_identity(identity, now_unix_secs()))?;
        self.metrics.released(ReleaseKind::Gc, removed(&mutations));
        Ok(mutations.len() as u64)
    }

    /// What the allocator holds of every pool it has records for, for the
    /// pool status writer (`kube::mode::sync_pools`).
    pub fn holdings(
        &self,
    ) -> Result<std::collections::BTreeMap<String, berth_core::Holdings>, ErrorBody> {
        Ok(self.lock()?.holdings_by_pool())
    }

    /// Puts the cluster's usable BerthPools and its BerthReservedIPs in
    /// force (a reserved address held stays with its holder): each pool on its own
    /// merits (`berth_core::admission`), so one broken or overlapping pool
    /// never blocks the others; the invalid ones are logged when the set
    /// changes and reported in their status by the status writer. A
    /// withheld pool (being deleted) hands out nothing; its held addresses
    /// stay held as records of a pool not in force.
    pub fn replace_pools(
        &self,
        pools: &ClusterPools,
        reserved: berth_core::Reserved,
    ) -> anyhow::Result<()> {
        let pools = usable_pools(pools);
        let mut allocator = self.lock().map_err(|e| anyhow::anyhow!(e.message))?;
        let unchanged = allocator.pools().len() == pools.len()
            && allocator.pools().iter().zip(&pools).all(|(a, b)| a == b)
            && *allocator.reserved() == reserved;
        if !unchanged {
            let orphaned = allocator.reconfigure(pools, reserved)?;
            allocator.spread_cursors(crate::service::node_seed(&self.node));
            tracing::info!(
                pools = allocator.pools().len(),
                orphaned = orphaned.len(),
                "pools updated from BerthPools"
            );
        }
        Ok(())
    }
}

/// The usable pools among the cluster's BerthPools (in precedence order);
/// each unusable one is logged with its reason. Withheld pools are judged
/// with the others (a deleting pool still owns its addresses, so a later
/// pool overlapping it stays invalid) and then left out.
pub fn usable_pools(pools: &ClusterPools) -> Vec<Pool> {
    let mut admitted = berth_core::admission::admit(
        pools
            .specs
            .iter()
            .map(|spec| spec.clone().and_then(|s| Pool::from_spec(&s)))
            .collect(),
    );
    for problem in &admitted.invalid {
        tracing::debug!(%problem, "BerthPool not used");
    }
    admitted.valid.retain(|p| !pools.withheld.contains(&p.name));
    admitted.valid
}
