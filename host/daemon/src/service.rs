//! The daemon's request handling: every CNI verb and operator request, over
//! the allocator, the store and the policy chain.
//!
//! Each state change follows plan → persist → apply under the allocator's
//! lock, so the in-memory state never runs ahead of the store and an ADD is
//! answered only once it is durable. The policy chain runs inside that
//! lock too: on one node, allocations are serialised and a planned address
//! can never be taken by a concurrent request before it is committed.
//!
//! This file holds the state and the one path from a plan to the store and
//! the allocator (`commit`, `commit_fresh`); the verbs are in
//! `service_cni.rs` (CNI) and `service_admin.rs` (operator), the
//! Kubernetes-only ones in `cluster.rs`. The store is a `Store` trait
//! object, which is what `service_tests.rs` replaces to test all of this in
//! process.

use crate::config::DaemonConfig;
use crate::decision_log::DecisionLog;
use crate::kube::directory::Directory;
use crate::limits::RELEASE_ATTEMPTS_MAX;
use crate::metrics::{Metrics, Verb};
use crate::metrics_views;
use crate::phases::PhaseClock;
use crate::wire_error::WireKind;
use berth_core::allocator::{Allocator, NodeScope};
use berth_core::pool::Pool;
use berth_core::record::Mutation;
use berth_core::store::Store;
use berth_policy_runtime::{ChainHandle, Runtime};
use berth_proto::{ErrorBody, ErrorKind, Request, Response};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub struct Service {
    pub(crate) allocator: Mutex<Allocator>,
    pub(crate) store: Box<dyn Store>,
    pub(crate) runtime: Runtime,
    pub(crate) chain: ChainHandle,
    pub metrics: Metrics,
    pub(crate) config: ConfigOrigin,
    pub(crate) node: String,
    /// Kubernetes mode only: workload identity from the cluster.
    pub(crate) directory: Option<Directory>,
    /// Kubernetes mode: dead nodes whose records this node collects (set
    /// by each GC pass from the live node list; see `kube::gc::acts_for`).
    pub(crate) adopted_nodes: Mutex<BTreeSet<String>>,
    /// Recent requests and refusals, for `berthd explain`.
    pub(crate) decisions: DecisionLog,
}

pub(crate) type Failure = ErrorBody;

pub(crate) fn fail(kind: ErrorKind, message: impl Into<String>) -> Failure {
    ErrorBody {
        kind,
        message: message.into(),
    }
}

/// Refuses to start work once the request's deadline has passed.
pub(crate) fn in_time(deadline: Option<Instant>) -> Result<(), Failure> {
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
            .map_err(|e| fail(e.wire_kind(), format!("store: {e}")))?;
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

    /// Whose records this node releases on its own: every record on a
    /// single host; in Kubernetes mode only those it handed out.
    pub(crate) fn own_scope(&self) -> NodeScope {
        match self.directory {
            None => NodeScope::AllNodes,
            Some(_) => NodeScope::only(&self.node),
        }
    }

    /// Whose records this node's expiry and repairs release: its own and
    /// those of the dead nodes it adopted.
    pub(crate) fn initiative_scope(&self) -> NodeScope {
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
pub(crate) fn seed_of(container_id: &str, ifname: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in container_id.bytes().chain([0u8]).chain(ifname.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}
