//! The daemon's memory of recent decisions, for operators: the request
//! behind each of the newest allocations (as a `berth-policy` fixture) and
//! the policy and version that placed it, and the last refused ADDs.
//!
//! In memory only and bounded (`crate::limits::KEPT_*`): records are
//! what the store persists, and adding a request to each of them would
//! multiply the daemon's memory per allocation. An allocation older than
//! the newest kept ones, or made before the daemon started, is still
//! explained from its record's trace, only without its request.

use crate::limits::{
    ADMIN_PAGE_BYTES_MAX, KEPT_REFUSALS_MAX, KEPT_REQUESTS_BYTES_MAX, KEPT_REQUESTS_MAX,
};
use crate::recording::{describe_policy, Captured};
use berth_core::allocator::Allocator;
use berth_core::chain::{truncate_utf8, ChainOutcome};
use berth_core::describe;
use berth_core::limits::REASON_BYTES_MAX;
use berth_core::record::{AddressRecord, Mutation};
use berth_policy_runtime::LoadedChain;
use berth_proto::admin::RefusalView;
use berth_proto::{AddRequest, ErrorBody};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

#[derive(Default)]
pub struct DecisionLog {
    requests: Mutex<KeptRequests>,
    refusals: Mutex<VecDeque<RefusalView>>,
    chain: Mutex<ChainInForce>,
}

/// The chain berthd runs and since when: a record created after it came
/// into force was placed by one of its policies, whose version is known
/// even once the record's request is no longer kept.
#[derive(Default)]
struct ChainInForce {
    since_unix_secs: u64,
    /// (name in the config, "name version").
    policies: Vec<(String, String)>,
}

#[derive(Default)]
struct KeptRequests {
    by_address: HashMap<IpAddr, Kept>,
    /// Insertion order with each entry's sequence number: a replaced
    /// entry leaves a stale pair behind, skipped when it comes up.
    order: VecDeque<(IpAddr, u64)>,
    next_seq: u64,
    bytes: usize,
}

struct Kept {
    seq: u64,
    /// What identifies the record this request produced: a later record
    /// at the same address came from another request.
    pool: String,
    pod_uid: String,
    container_id: String,
    placed_by: Option<String>,
    /// The fixture, encoded; `None` when it was too large for an answer.
    fixture: Option<Box<str>>,
}

impl Kept {
    fn bytes(&self) -> usize {
        self.fixture.as_ref().map_or(0, |f| f.len())
            + self.pool.len()
            + self.pod_uid.len()
            + self.container_id.len()
    }

    fn produced(&self, record: &AddressRecord) -> bool {
        record.pool == self.pool
            && record.pod.uid == self.pod_uid
            && record
                .attachment
                .as_ref()
                .is_none_or(|a| a.container_id == self.container_id)
    }
}

impl DecisionLog {
    /// Keeps the request behind each address `mutations` committed for
    /// `add`. Called after the commit, outside the allocator's lock.
    pub fn allocated(
        &self,
        add: &AddRequest,
        node: &str,
        runs: Vec<Captured>,
        mutations: &[Mutation],
    ) {
        // Encoded before the lock: explain requests wait only for inserts.
        let mut entries = Vec::new();
        for mutation in mutations {
            let Mutation::Put(record) = mutation else {
                continue;
            };
            let family = record.family();
            let Some(run) = runs.iter().rev().find(|r| r.request.family == family) else {
                continue;
            };
            let Ok(outcome) = &run.result else {
                continue;
            };
            let fixture = fixture_of(run, outcome, record, node);
            let entry = Kept {
                seq: 0,
                pool: record.pool.clone(),
                pod_uid: add.pod.uid.clone(),
                container_id: add.attachment.container_id.clone(),
                placed_by: run.decided_by.clone(),
                fixture: serde_json::to_string(&fixture)
                    .ok()
                    .filter(|text| text.len() <= ADMIN_PAGE_BYTES_MAX)
                    .map(String::into_boxed_str),
            };
            entries.push((record.address, entry));
        }
        if let Ok(mut kept) = self.requests.lock() {
            for (address, entry) in entries {
                kept.insert(address, entry);
            }
        }
    }

    /// Remembers a refused ADD (the newest `KEPT_REFUSALS_MAX`).
    pub fn refused(&self, add: &AddRequest, error: &ErrorBody, runs: &[Captured], now: u64) {
        let policy = runs
            .iter()
            .rev()
            .find(|r| r.result.is_err())
            .and_then(|r| r.decided_by.clone());
        let view = RefusalView {
            at_unix_secs: now,
            pod: format!("{}/{}", add.pod.namespace, add.pod.name),
            container_id: add.attachment.container_id.clone(),
            ifname: add.attachment.ifname.clone(),
            network: add.network.clone(),
            kind: error.kind,
            reason: truncate_utf8(error.message.clone(), REASON_BYTES_MAX),
            policy,
        };
        if let Ok(mut refusals) = self.refusals.lock() {
            if refusals.len() == KEPT_REFUSALS_MAX {
                refusals.pop_front();
            }
            refusals.push_back(view);
        }
    }

    pub fn refusals(&self) -> Vec<RefusalView> {
        self.refusals
            .lock()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Notes the chain berthd runs from `now` on (at start and on reload).
    pub fn chain_in_force(&self, chain: &LoadedChain, now: u64) {
        let policies = chain
            .policies()
            .iter()
            .map(|p| (p.name().to_owned(), describe_policy(chain, p.name())))
            .collect();
        if let Ok(mut current) = self.chain.lock() {
            *current = ChainInForce {
                since_unix_secs: now,
                policies,
            };
        }
    }

    /// The policy and version that placed `record`: as kept with its
    /// request; else the policy its trace names, with the version of the
    /// chain in force when the record was created after that chain came
    /// into force (within the same second is not after); else unversioned.
    /// `None` when every policy abstained.
    pub fn placed_by(&self, record: &AddressRecord) -> Option<String> {
        if let Ok(kept) = self.requests.lock() {
            if let Some(entry) = kept.by_address.get(&record.address) {
                if entry.produced(record) {
                    return entry.placed_by.clone();
                }
            }
        }
        let policy = describe::placed_by(&record.trace)?;
        let known = self.chain.lock().ok().and_then(|chain| {
            (record.created_at_unix_secs > chain.since_unix_secs)
                .then(|| chain.policies.iter().find(|(name, _)| name == policy))
                .flatten()
                .map(|(_, described)| described.clone())
        });
        Some(known.unwrap_or_else(|| {
            format!("{policy} (version not known: placed before the chain berthd runs now)")
        }))
    }

    /// The fixture of the request that produced the allocation of
    /// `address` and the allocation's pool, or why there is none.
    pub fn fixture(
        &self,
        allocator: &Allocator,
        address: IpAddr,
    ) -> Result<(Value, String), String> {
        let Some(record) = allocator.record(address) else {
            return Err(format!("no allocation holds {address}"));
        };
        let kept = self
            .requests
            .lock()
            .map_err(|_| "the kept requests are unreadable after an internal error".to_owned())?;
        let not_kept = || {
            format!(
                "the request behind {address} is not kept: berthd keeps the newest \
                 {KEPT_REQUESTS_MAX} requests in memory, from its start on"
            )
        };
        let entry = kept
            .by_address
            .get(&address)
            .filter(|e| e.produced(&record))
            .ok_or_else(not_kept)?;
        let text = entry.fixture.as_deref().ok_or_else(|| {
            format!("the request behind {address} was larger than an answer may be ({ADMIN_PAGE_BYTES_MAX} bytes)")
        })?;
        let fixture = serde_json::from_str(text)
            .map_err(|e| format!("the kept request is unreadable: {e}"))?;
        Ok((fixture, record.pool.clone()))
    }
}

impl KeptRequests {
    fn insert(&mut self, address: IpAddr, mut entry: Kept) {
        entry.seq = self.next_seq;
        self.next_seq += 1;
        self.bytes += entry.bytes();
        self.order.push_back((address, entry.seq));
        if let Some(old) = self.by_address.insert(address, entry) {
            self.bytes -= old.bytes();
        }
        while self.by_address.len() > KEPT_REQUESTS_MAX || self.bytes > KEPT_REQUESTS_BYTES_MAX {
            let Some((address, seq)) = self.order.pop_front() else {
                break;
            };
            if self.by_address.get(&address).is_some_and(|e| e.seq == seq) {
                if let Some(old) = self.by_address.remove(&address) {
                    self.bytes -= old.bytes();
                }
            }
        }
        // Stale pairs of replaced entries must not grow the queue forever.
        if self.order.len() > 2 * KEPT_REQUESTS_MAX {
            let live = &self.by_address;
            self.order
                .retain(|(a, seq)| live.get(a).is_some_and(|e| e.seq == *seq));
        }
    }
}

/// The fixture format `berth-policy test` reads (host/policy-cli's
/// `fixture.rs`): the request, what the host could answer, and what the
/// live chain decided (the committed address goes beside it, in the
/// answer). Only allocations are kept as fixtures: a refusal keeps its
/// reason.
fn fixture_of(run: &Captured, outcome: &ChainOutcome, record: &AddressRecord, node: &str) -> Value {
    let expect = json!({
        "outcome": "allocated",
        "identity": outcome.identity,
        "picked": outcome.picked,
    });
    let placed = run
        .decided_by
        .as_deref()
        .unwrap_or("the allocator (every policy abstained)");
    json!({
        "description": format!(
            "captured from berthd on {node}: {} (pool {}) for {}/{}, placed by {placed}",
            record.address, record.pool, record.pod.namespace, record.pod.name
        ),
        "settings": run.settings,
        "request": run.request,
        "bindings": run.bindings,
        "free": run.free,
        "expect": expect,
    })
}

#[cfg(test)]
#[path = "decision_log_tests.rs"]
mod tests;
