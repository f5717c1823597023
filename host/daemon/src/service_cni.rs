//! The CNI verbs of the [`Service`]: ADD (with its decision record), DEL,
//! CHECK, GC and STATUS, and the releases berthd makes on its own (expiry
//! of retained bindings, superseded records). Each state change goes
//! through `Service::commit` / `commit_fresh` (`service.rs`), the one path
//! from a plan to the store and the allocator.

use crate::limits::{ADD_ATTEMPTS_MAX, ADD_RETRY_PAUSE_MS_MAX};
use crate::metrics::ReleaseKind;
use crate::phases::{Phase, PhaseClock, TimedChain};
use crate::recording::{Captured, RecordingChain};
use crate::service::{fail, in_time, now_unix_secs, removed, seed_of, Failure, Service};
use crate::wire_error::WireKind;
use berth_core::allocator::{AddInput, Allocator};
use berth_core::pod_network::compose;
use berth_core::pool_names::resolve;
use berth_proto::{AddRequest, CheckRequest, ErrorKind, Response};
use std::sync::Mutex;
use std::time::Instant;

impl Service {
    /// ADD, remembering what the chain saw and decided
    /// (`decision_log.rs`), so the allocation or the refusal can be
    /// explained later.
    pub(crate) fn add(
        &self,
        add: &AddRequest,
        deadline: Option<Instant>,
        clock: &mut PhaseClock,
    ) -> Result<Response, Failure> {
        let runs = Mutex::new(Vec::new());
        let result = self.add_recorded(add, deadline, clock, &runs);
        if let Err(error) = &result {
            let runs = runs.into_inner().unwrap_or_default();
            self.decisions.refused(add, error, &runs, now_unix_secs());
        }
        result
    }

    pub(crate) fn add_recorded(
        &self,
        add: &AddRequest,
        deadline: Option<Instant>,
        clock: &mut PhaseClock,
        runs: &Mutex<Vec<Captured>>,
    ) -> Result<Response, Failure> {
        let started = Instant::now();
        let mut input = AddInput {
            attachment: add.attachment.clone(),
            network: add.network.clone(),
            pod: add.pod.clone(),
            interface: add.attachment.ifname.clone(),
            pools: Vec::new(), // resolved from `request.pools` under the lock
            requested: add.requested_ips.clone(),
            // Single-host mode: the runtime's `args.cni.labels`; a cluster
            // replaces them with the pod's own (`describe_workload`).
            labels: add
                .labels
                .iter()
                .map(|l| berth_policy_sdk::KeyValue {
                    key: l.key.clone(),
                    value: l.value.clone(),
                })
                .collect(),
            annotations: Vec::new(),
            owner: None,
            stateful_set: None,
            node: self.node.clone(),
            placement: None,
            seed: seed_of(&add.attachment.container_id, &add.attachment.ifname),
        };
        let request = self.describe_workload(add, &mut input)?;
        let mut attempt = 1;
        let (plan, pod_network) = loop {
            let mut allocator = self.lock()?;
            clock.mark(Phase::Lock);
            // The lock may have been a long wait (a slow API server, a busy
            // node): plan only while the plugin still waits for the answer.
            in_time(deadline)?;
            // Plan on what other nodes' writes the watch has delivered.
            self.catch_up(&mut allocator)?;
            // Patterns match the pools in force now.
            input.pools = resolve(allocator.pools(), &request.pools)
                .map_err(|e| fail(e.wire_kind(), e.to_string()))?;
            // Only the attempt that commits is explained.
            if let Ok(mut runs) = runs.lock() {
                runs.clear();
            }
            let current = self.chain.current();
            let recording = RecordingChain::new(&current, runs);
            let chain = TimedChain::new(&recording);
            let plan = allocator
                .plan_add(&input, &chain, now_unix_secs())
                .map_err(|e| fail(e.wire_kind(), e.to_string()))?;
            // Before the commit: a request whose routes cannot work
            // writes nothing.
            let pod_network = compose(allocator.pools(), &plan.result, &request.network)
                .map_err(|e| fail(e.wire_kind(), e.to_string()))?;
            clock.mark(Phase::Plan);
            clock.carve(Phase::Plan, Phase::Chain, chain.spent());
            let committed = self.commit(&mut allocator, &plan.mutations);
            clock.mark(Phase::Commit);
            match committed {
                Ok(()) => break (plan, pod_network),
                // Another node took the address first: re-read the
                // records and plan again on what is really free.
                Err(error)
                    if error.kind == ErrorKind::TryAgainLater && attempt < ADD_ATTEMPTS_MAX =>
                {
                    tracing::debug!(attempt, message = %error.message, "lost a race; re-planning");
                    drop(allocator);
                    let jitter_ms = seed_of(&add.attachment.container_id, &attempt.to_string())
                        % ADD_RETRY_PAUSE_MS_MAX;
                    std::thread::sleep(std::time::Duration::from_millis(jitter_ms + 1));
                    self.resync()?;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        };
        self.metrics
            .released(ReleaseKind::Rebind, removed(&plan.mutations));
        if let Ok(mut runs) = runs.lock() {
            let runs = std::mem::take(&mut *runs);
            self.decisions
                .allocated(add, &self.node, runs, &plan.mutations);
        }
        self.metrics
            .observe_add_us(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
        let result = crate::answer::add_result(&plan.result, &pod_network);
        tracing::info!(
            container = %add.attachment.container_id,
            pod = %format!("{}/{}", add.pod.namespace, add.pod.name),
            ips = ?result.ips.iter().map(|ip| ip.address.to_string()).collect::<Vec<_>>(),
            "allocated"
        );
        Ok(Response::Added(result))
    }

    /// DEL: idempotent; an attachment with nothing allocated is fine.
    pub(crate) fn release_attachment(
        &self,
        attachment: &berth_proto::Attachment,
        deadline: Option<Instant>,
    ) -> Result<Response, Failure> {
        let mutations = self.commit_fresh(deadline, |a| a.plan_del(attachment, now_unix_secs()))?;
        self.metrics
            .released(ReleaseKind::Delete, removed(&mutations));
        Ok(Response::Ok)
    }

    pub(crate) fn check(&self, check: &CheckRequest) -> Result<Response, Failure> {
        let allocator = self.lock()?;
        let held: Vec<ipnet::IpNet> = allocator
            .records_of_attachment(&check.attachment)
            .iter()
            .filter_map(|r| {
                let pool = allocator.pool(&r.pool)?;
                ipnet::IpNet::new(r.address, pool.subnet.prefix_len()).ok()
            })
            .collect();
        if held.is_empty() {
            return Err(fail(
                ErrorKind::CheckFailed,
                format!(
                    "berthd holds no address for container {} interface {}",
                    check.attachment.container_id, check.attachment.ifname
                ),
            ));
        }
        let missing: Vec<&ipnet::IpNet> = check
            .expected
            .iter()
            .filter(|e| !held.contains(e))
            .collect();
        if !missing.is_empty() {
            return Err(fail(
                ErrorKind::CheckFailed,
                format!(
                    "the runtime expects {missing:?} but berthd holds {held:?} for this attachment"
                ),
            ));
        }
        Ok(Response::Ok)
    }

    pub(crate) fn gc(
        &self,
        network: &str,
        valid: &[berth_proto::Attachment],
        deadline: Option<Instant>,
    ) -> Result<Response, Failure> {
        // The runtime's `valid` lists this node's containers only.
        let scope = self.own_scope();
        let mutations = self.commit_fresh(deadline, |a| {
            a.plan_gc(network, valid, &scope, now_unix_secs())
        })?;
        self.metrics.released(ReleaseKind::Gc, removed(&mutations));
        Ok(Response::Ok)
    }

    /// CNI STATUS: ready only while the store can commit.
    pub(crate) fn status(&self) -> Result<Response, Failure> {
        drop(self.lock()?);
        self.store
            .health()
            .map_err(|e| fail(ErrorKind::Internal, format!("the store cannot commit: {e}")))?;
        Ok(Response::Ok)
    }

    /// Releases the records a restore found superseded (a partial write of
    /// the Kubernetes store; see `berth_core::allocator::restore`) that are
    /// this node's to release. The caller holds the lock.
    pub(crate) fn release_superseded(&self, allocator: &mut Allocator) -> Result<(), Failure> {
        let mutations = allocator.plan_release_superseded(&self.initiative_scope());
        if mutations.is_empty() {
            return Ok(());
        }
        self.commit(allocator, &mutations)?;
        let count = removed(&mutations);
        self.metrics.released(ReleaseKind::Repair, count);
        tracing::warn!(
            released = count,
            "repaired the store: released superseded records"
        );
        Ok(())
    }

    /// Frees retained bindings whose time is up, of this node and of the
    /// dead nodes it adopted; run periodically.
    pub fn expire(&self) -> Result<usize, Failure> {
        let scope = self.initiative_scope();
        let mut allocator = self.lock()?;
        let mutations = allocator.plan_expire(&scope, now_unix_secs());
        self.commit(&mut allocator, &mutations)?;
        self.metrics
            .released(ReleaseKind::Expiry, removed(&mutations));
        Ok(mutations.len())
    }
}
