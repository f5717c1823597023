//! The daemon's request handling: every CNI verb and operator request, over
//! the allocator, the store and the policy chain.
//!
//! Each state change follows plan → persist → apply under the allocator's
//! lock, so the in-memory state never runs ahead of the store and an ADD is
//! answered only once it is durable. The policy chain runs inside that
//! lock too: on one node, allocations are serialised and a planned address
//! can never be taken by a concurrent request before it is committed.

use crate::config::DaemonConfig;
use crate::decision_log::DecisionLog;
use crate::kube::directory::Directory;
use crate::limits::{ADD_ATTEMPTS_MAX, ADD_RETRY_PAUSE_MS_MAX, RELEASE_ATTEMPTS_MAX};
use crate::metrics::{Metrics, ReleaseKind, Verb};
use crate::metrics_views;
use crate::phases::{Phase, PhaseClock, TimedChain};
use crate::recording::{Captured, RecordingChain};
use crate::views;
use berth_core::allocator::{AddInput, Allocator, NodeScope};
use berth_core::pod_network::compose;
use berth_core::pool::Pool;
use berth_core::pool_names::resolve;
use berth_core::record::Mutation;
use berth_core::store::Store;
use berth_policy_runtime::{ChainHandle, Runtime};
use berth_proto::admin::{AdminRequest, AdminResponse};
use berth_proto::{AddRequest, CheckRequest, ErrorBody, ErrorKind, Request, Response};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub struct Service {
    pub(crate) allocator: Mutex<Allocator>,
    pub(crate) store: Box<dyn Store>,
    runtime: Runtime,
    chain: ChainHandle,
    pub metrics: Metrics,
    config: ConfigOrigin,
    pub(crate) node: String,
    /// Kubernetes mode only: workload identity from the cluster.
    pub(crate) directory: Option<Directory>,
    /// Kubernetes mode: dead nodes whose records this node collects (set
    /// by each GC pass from the live node list; see `kube::gc::acts_for`).
    pub(crate) adopted_nodes: Mutex<BTreeSet<String>>,
    /// Recent requests and refusals, for `berthd explain`.
    pub(crate) decisions: DecisionLog,
}

type Failure = ErrorBody;

pub(crate) fn fail(kind: ErrorKind, message: impl Into<String>) -> Failure {
    ErrorBody {
        kind,
        message: message.into(),
    }
}

/// Refuses to start work once the request's deadline has passed.
fn in_time(deadline: Option<Instant>) -> Result<(), Failure> {
    match deadline {
        Some(deadline) if Instant::now() >= deadline => Err(fail(
            ErrorKind::TryAgainLater,
            "the request's deadline passed before berthd could handle it; nothing was done",
        )),
        _ => Ok(()),
    }
}

pub fn now_unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Validates every pool of `config` (all or nothing).
/// The config's pools, or every reason the set is refused: a single-host
/// config is taken whole or not at all, and the operator fixing it should
/// see every broken pool (and every overlap) at once, not one per try.
pub fn pools_of(config: &DaemonConfig) -> anyhow::Result<Vec<Pool>> {
    let judged = berth_core::admission::admit(config.pools.iter().map(Pool::from_spec).collect());
    if judged.invalid.is_empty() {
        return Ok(judged.valid);
    }
    let reasons: Vec<String> = judged.invalid.iter().map(ToString::to_string).collect();
    anyhow::bail!(
        "{} pool problem(s), nothing applied:\n  {}",
        reasons.len(),
        reasons.join("\n  ")
    )
}

/// Where the config comes from, and what it said at start of the settings
/// a reload cannot apply (reported as needing a restart when they change).
pub struct ConfigOrigin {
    pub path: PathBuf,
    pub start_only: crate::config::StartOnly,
}

impl Service {
    pub fn new(
        allocator: Allocator,
        store: Box<dyn Store>,
        runtime: Runtime,
        chain: ChainHandle,
        config: ConfigOrigin,
        node: String,
        directory: Option<Directory>,
    ) -> Self {
        let decisions = DecisionLog::default();
        decisions.chain_in_force(&chain.current(), now_unix_secs());
        Self {
            allocator: Mutex::new(allocator),
            store,
            runtime,
            chain,
            metrics: Metrics::default(),
            config,
            node,
            directory,
            adopted_nodes: Mutex::default(),
            decisions,
        }
    }

    /// Handles one request from the socket. Nothing is executed once
    /// `deadline` has passed: by then the plugin has told the runtime the
    /// request failed, and a late allocation would hold an address nobody
    /// uses.
    /// `clock` is charged with the phases of an ADD (`phases.rs`).
    pub fn handle(&self, request: Request, deadline: Instant, clock: &mut PhaseClock) -> Response {
        crate::faults::before_request(&request);
        let checked = crate::validate::request(&request).and_then(|()| in_time(Some(deadline)));
        let deadline = Some(deadline);
        let (verb, result) = match request {
            Request::Add(add) => (
                Verb::Add,
                checked.and_then(|()| self.add(&add, deadline, clock)),
            ),
            Request::Del(del) => (
                Verb::Del,
                checked.and_then(|()| self.release_attachment(&del.attachment, deadline)),
            ),
            Request::Check(check) => (Verb::Check, checked.and_then(|()| self.check(&check))),
            Request::Gc(gc) => (
                Verb::Gc,
                checked.and_then(|()| self.gc(&gc.network, &gc.valid, deadline)),
            ),
            Request::Status => (Verb::Status, checked.and_then(|()| self.status())),
            Request::Admin(admin) => (
                Verb::Admin,
                checked.and_then(|()| self.admin(admin).map(Response::Admin)),
            ),
        };
        self.metrics.count_request(verb, result.is_ok());
        result.unwrap_or_else(|error| {
            tracing::warn!(kind = ?error.kind, message = %error.message, "request failed");
            Response::Error(error)
        })
    }

    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, Allocator>, Failure> {
        // A poisoned lock means an invariant assertion fired mid-apply: the
        // in-memory state can no longer be trusted, only the store can.
        self.allocator.lock().map_err(|_| {
            fail(
                ErrorKind::Internal,
                "allocator state is inconsistent after an internal error; restart berthd",
            )
        })
    }

    /// Persists then applies one batch; the caller holds the lock.
    pub(crate) fn commit(
        &self,
        allocator: &mut Allocator,
        mutations: &[Mutation],
    ) -> Result<(), Failure> {
        if mutations.is_empty() {
            return Ok(());
        }
        self.store
            .apply(mutations)
            .map_err(|e| fail(e.error_kind(), format!("store: {e}")))?;
        // With the time, so policies can ask when an address was freed.
        allocator.apply_at(mutations, now_unix_secs());
        Ok(())
    }

    /// plan → persist → apply for a release. When the store says another
    /// node changed a record since this node read it (Kubernetes store), the
    /// view is stale: re-read it and plan again, a bounded number of times,
    /// instead of failing the request until the next periodic refresh.
    pub(crate) fn commit_fresh(
        &self,
        deadline: Option<Instant>,
        plan: impl Fn(&Allocator) -> Vec<Mutation>,
    ) -> Result<Vec<Mutation>, Failure> {
        let mut attempt = 1;
        loop {
            let mut allocator = self.lock()?;
            in_time(deadline)?;
            let mutations = plan(&allocator);
            match self.commit(&mut allocator, &mutations) {
                Ok(()) => return Ok(mutations),
                Err(error)
                    if error.kind == ErrorKind::TryAgainLater && attempt < RELEASE_ATTEMPTS_MAX =>
                {
                    tracing::debug!(attempt, message = %error.message, "stale view; re-reading records");
                    drop(allocator);
                    self.resync()?;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// ADD, remembering what the chain saw and decided
    /// (`decision_log.rs`), so the allocation or the refusal can be
    /// explained later.
    fn add(
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

    fn add_recorded(
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
                .map_err(|e| fail(e.kind(), e.to_string()))?;
            // Only the attempt that commits is explained.
            if let Ok(mut runs) = runs.lock() {
                runs.clear();
            }
            let current = self.chain.current();
            let recording = RecordingChain::new(&current, runs);
            let chain = TimedChain::new(&recording);
            let plan = allocator
                .plan_add(&input, &chain, now_unix_secs())
                .map_err(|e| fail(e.kind(), e.to_string()))?;
            // Before the commit: a request whose routes cannot work
            // writes nothing.
            let pod_network = compose(allocator.pools(), &plan.result, &request.network)
                .map_err(|e| fail(e.kind(), e.to_string()))?;
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
            ips = ?result.ips.iter().map(|ip| ip.address.as_str()).collect::<Vec<_>>(),
            "allocated"
        );
        Ok(Response::Added(result))
    }

    /// DEL: idempotent; an attachment with nothing allocated is fine.
    fn release_attachment(
        &self,
        attachment: &berth_proto::Attachment,
        deadline: Option<Instant>,
    ) -> Result<Response, Failure> {
        let mutations = self.commit_fresh(deadline, |a| a.plan_del(attachment, now_unix_secs()))?;
        self.metrics
            .released(ReleaseKind::Delete, removed(&mutations));
        Ok(Response::Ok)
    }

    fn check(&self, check: &CheckRequest) -> Result<Response, Failure> {
        let allocator = self.lock()?;
        let held: Vec<String> = allocator
            .records_of_attachment(&check.attachment)
            .iter()
            .filter_map(|r| {
                allocator
                    .pool(&r.pool)
                    .map(|p| format!("{}/{}", r.address, p.subnet.prefix_len()))
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
        let missing: Vec<&String> = check
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

    fn gc(
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
    fn status(&self) -> Result<Response, Failure> {
        drop(self.lock()?);
        self.store
            .health()
            .map_err(|e| fail(ErrorKind::Internal, format!("the store cannot commit: {e}")))?;
        Ok(Response::Ok)
    }

    /// Whose records this node releases on its own: every record on a
    /// single host; in Kubernetes mode only those it handed out.
    fn own_scope(&self) -> NodeScope {
        match self.directory {
            None => NodeScope::AllNodes,
            Some(_) => NodeScope::only(&self.node),
        }
    }

    /// Whose records this node's expiry and repairs release: its own and
    /// those of the dead nodes it adopted.
    fn initiative_scope(&self) -> NodeScope {
        match self.own_scope() {
            NodeScope::Nodes(mut nodes) => {
                // A poisoned set only loses adoptions until the next GC
                // pass sets it again; this node's own records still go.
                if let Ok(adopted) = self.adopted_nodes.lock() {
                    nodes.extend(adopted.iter().cloned());
                }
                NodeScope::Nodes(nodes)
            }
            all => all,
        }
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

    /// Re-reads the config: pools and chain are both validated and loaded
    /// before either replaces the running one, so a bad file changes nothing.
    pub fn reload(&self) -> Result<AdminResponse, Failure> {
        let result = self.try_reload();
        self.metrics.reloaded(result.is_ok());
        result
    }

    fn try_reload(&self) -> Result<AdminResponse, Failure> {
        let invalid = |e: String| {
            fail(
                ErrorKind::InvalidConfig,
                format!("reload refused, config unchanged: {e}"),
            )
        };
        let config = DaemonConfig::load(&self.config.path).map_err(|e| invalid(e.to_string()))?;
        if let Some(why) =
            crate::policy_limits::reload_change(self.runtime.limits(), &config.limits)
        {
            return Err(invalid(why));
        }
        // In Kubernetes mode pools come from BerthPools, not this file.
        let pools = match self.directory {
            None => Some((
                pools_of(&config).map_err(|e| invalid(e.to_string()))?,
                config.reserved_set().map_err(|e| invalid(e.to_string()))?,
            )),
            Some(_) => None,
        };
        let chain = self
            .runtime
            .load_chain(&config.policies)
            .map_err(|e| invalid(e.to_string()))?;
        let names: Vec<String> = chain
            .policies()
            .iter()
            .map(|p| p.name().to_owned())
            .collect();
        let mut allocator = self.lock()?;
        let pool_count = pools
            .as_ref()
            .map_or(allocator.pools().len(), |p| p.0.len());
        let orphaned = match pools {
            Some((pools, reserved)) => allocator
                .reconfigure(pools, reserved)
                .map_err(|e| invalid(e.to_string()))?,
            None => Vec::new(),
        };
        self.decisions.chain_in_force(&chain, now_unix_secs());
        self.chain.swap(chain);
        drop(allocator);
        if !orphaned.is_empty() {
            tracing::warn!(
                ?orphaned,
                "pools removed from the config still hold addresses"
            );
        }
        let needs_restart = self
            .config
            .start_only
            .changed(&crate::config::StartOnly::of(&config));
        if !needs_restart.is_empty() {
            tracing::warn!(
                ?needs_restart,
                "these settings changed but are read only at start; restart berthd to apply them"
            );
        }
        tracing::info!(policies = ?names, pools = pool_count, "config reloaded");
        Ok(AdminResponse::Reloaded {
            policies: names,
            pools: pool_count,
            needs_restart,
        })
    }

    fn admin(&self, request: AdminRequest) -> Result<AdminResponse, Failure> {
        match request {
            AdminRequest::ListPools => Ok(AdminResponse::Pools {
                pools: views::pools(&*self.lock()?),
            }),
            AdminRequest::ListAllocations { after } => {
                let after = match after {
                    None => None,
                    Some(text) => Some(text.parse::<IpAddr>().map_err(|_| {
                        fail(
                            ErrorKind::InvalidRequest,
                            format!("page start {text:?} is not an IP address"),
                        )
                    })?),
                };
                let (allocations, next) = views::allocations_page(&*self.lock()?, after);
                Ok(AdminResponse::Allocations { allocations, next })
            }
            AdminRequest::Explain { target } => Ok(AdminResponse::Explained {
                explanations: views::explain(&*self.lock()?, &self.decisions, &target),
            }),
            AdminRequest::ExplainRequest { address } => {
                let address = address.parse::<IpAddr>().map_err(|_| {
                    fail(
                        ErrorKind::InvalidRequest,
                        format!("{address:?} is not an IP address"),
                    )
                })?;
                let (fixture, pool) = self
                    .decisions
                    .fixture(&*self.lock()?, address)
                    .map_err(|why| fail(ErrorKind::InvalidRequest, why))?;
                Ok(AdminResponse::Request {
                    fixture,
                    pool,
                    address: address.to_string(),
                })
            }
            AdminRequest::ListRefusals => Ok(AdminResponse::Refusals {
                refusals: self.decisions.refusals(),
            }),
            AdminRequest::Release {
                identity,
                pool,
                address,
            } => self.operator_release(identity, pool, address),
            AdminRequest::Reload => self.reload(),
        }
    }

    fn operator_release(
        &self,
        identity: Option<String>,
        pool: Option<String>,
        address: Option<String>,
    ) -> Result<AdminResponse, Failure> {
        let mut allocator = self.lock()?;
        let mutations = match (identity, pool, address) {
            (Some(key), None, None) => allocator.plan_retire_identity(&key, now_unix_secs()),
            (None, Some(pool), Some(address)) => {
                let address: IpAddr = address.parse().map_err(|_| {
                    fail(
                        ErrorKind::InvalidRequest,
                        format!("{address:?} is not an IP address"),
                    )
                })?;
                allocator
                    .plan_release(&pool, address)
                    .map_err(|e| fail(e.kind(), e.to_string()))?
            }
            _ => {
                return Err(fail(
                    ErrorKind::InvalidRequest,
                    "release takes an identity, or a pool and an address",
                ))
            }
        };
        self.commit(&mut allocator, &mutations)?;
        let count = removed(&mutations);
        self.metrics.released(ReleaseKind::Operator, count);
        Ok(AdminResponse::Released { count })
    }

    /// Whether this daemon can do its job now: its state is trustworthy
    /// and its store can commit. Blocking (the store may probe the disk).
    pub fn health(&self) -> Result<(), String> {
        if self.allocator.is_poisoned() {
            return Err("allocator state is inconsistent after an internal error".to_owned());
        }
        self.store
            .health()
            .map_err(|e| format!("the store cannot commit: {e}"))
    }

    pub fn render_metrics(&self) -> String {
        let mut views: Vec<Box<dyn prometheus_client::collector::Collector>> = vec![Box::new(
            metrics_views::PolicyMetrics(self.runtime.metrics()),
        )];
        if let Ok(allocator) = self.lock() {
            views.push(Box::new(metrics_views::PoolMetrics(allocator.pool_usage())));
        }
        self.metrics.render(views)
    }
}

/// Addresses a batch frees (records removed, not merely retained).
pub(crate) fn removed(mutations: &[Mutation]) -> u64 {
    mutations
        .iter()
        .filter(|m| matches!(m, Mutation::Remove { .. }))
        .count() as u64
}

/// Where this node starts searching pools (see `Allocator::spread_cursors`).
pub fn node_seed(node: &str) -> u64 {
    seed_of(node, "cursor")
}

/// A deterministic per-attachment seed (FNV-1a): policies get no other
/// randomness, and a retried ADD sees the same seed.
fn seed_of(container_id: &str, ifname: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in container_id.bytes().chain([0u8]).chain(ifname.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}
