//! The simulated cluster: pods, StatefulSets, a container runtime that
//! loses and repeats CNI calls, a daemon that crashes, and a model store
//! that receives every planned batch before the allocator applies it.

use crate::common::{NativeChain, StepSpec};
use berth_core::chain::{ChainError, FailurePolicy};
use berth_core::{AddInput, AddressRecord, AllocError, Allocator, Mutation, NodeScope, Pool};
use berth_policy_sdk::StatefulSet;
use berth_proto::{Attachment, PodRef};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The cluster's nodes; each runs its own runtime and sends its own GC.
pub const NODES: [&str; 3] = ["node-a", "node-b", "node-c"];

#[derive(Debug, Clone)]
pub enum PodKind {
    Stateless,
    Sts { sts: usize, ordinal: u32 },
}

#[derive(Debug, Clone)]
pub struct Container {
    pub pod: String,
    pub namespace: String,
    pub kind: PodKind,
    pub pools: Vec<String>,
    /// Where the pod runs: the node that ADDs, DELs and GCs it.
    pub node: String,
    /// Addresses the runtime was answered with.
    pub result: Vec<IpAddr>,
    /// The runtime still runs it (GC's valid set).
    pub live: bool,
}

#[derive(Debug, Clone)]
pub struct Sts {
    pub name: String,
    pub namespace: String,
    pub pools: Vec<String>,
    /// ordinal -> container id (running or not: pods exist once scaled).
    pub pods: BTreeMap<u32, Option<String>>,
}

pub struct World {
    pub rng: SmallRng,
    pub pools: Vec<Pool>,
    pub alloc: Allocator,
    /// What a durable store would hold: every batch lands here first.
    pub store: BTreeMap<IpAddr, AddressRecord>,
    pub chain: NativeChain,
    pub now: u64,
    pub containers: BTreeMap<String, Container>,
    pub sts: Vec<Sts>,
    next_id: u64,
    /// Chance that a commit fails in the store (an I/O error, a full
    /// disk): nothing of the batch is persisted or applied.
    pub store_fault_rate: f64,
    pub store_faults: u64,
}

impl World {
    pub fn new(seed: u64, pools: Vec<Pool>) -> Self {
        let mut rng = SmallRng::seed_from_u64(seed);
        let grace = if rng.random_bool(0.5) { 0 } else { 60 };
        let policy = if rng.random_bool(0.5) {
            FailurePolicy::Fail
        } else {
            FailurePolicy::Ignore
        };
        let failing = StepSpec::Failing {
            every: rng.random_range(5..20),
            in_evaluate: rng.random_bool(0.5),
            policy,
        };
        let mut steps = vec![StepSpec::Sticky { grace }];
        steps.insert(rng.random_range(0..=1), failing);
        let sts = [("db", "ns1"), ("mq", "ns1"), ("kv", "ns2")]
            .iter()
            .map(|(name, ns)| Sts {
                name: (*name).into(),
                namespace: (*ns).into(),
                pools: vec!["a".into(), "c".into()],
                pods: BTreeMap::new(),
            })
            .collect();
        World {
            alloc: Allocator::new(pools.clone()).expect("sim pools"),
            pools,
            rng,
            store: BTreeMap::new(),
            chain: NativeChain::new(steps),
            now: 1_700_000_000,
            containers: BTreeMap::new(),
            sts,
            next_id: 0,
            store_fault_rate: 0.02,
            store_faults: 0,
        }
    }

    /// Persists then applies, as the daemon does; `false` when the store
    /// failed the batch (then nothing changed, and the caller's request
    /// failed).
    #[must_use]
    pub fn commit(&mut self, mutations: &[Mutation]) -> bool {
        if !mutations.is_empty() && self.rng.random_bool(self.store_fault_rate) {
            self.store_faults += 1;
            return false;
        }
        self.persist(mutations);
        self.alloc.apply(mutations);
        true
    }

    fn persist(&mut self, mutations: &[Mutation]) {
        for m in mutations {
            match m {
                Mutation::Put(r) => {
                    self.store.insert(r.address, r.clone());
                }
                Mutation::Remove { address, .. } => {
                    assert!(
                        self.store.remove(address).is_some(),
                        "store lacks {address}"
                    );
                }
            }
        }
    }

    /// The daemon restarts: a new allocator from what the store holds,
    /// after a round trip through the store's JSON encoding.
    pub fn restart_daemon(&mut self) {
        let json = serde_json::to_vec(&self.store.values().collect::<Vec<_>>()).expect("encode");
        let records: Vec<AddressRecord> = serde_json::from_slice(&json).expect("decode");
        let mut alloc = Allocator::new(self.pools.clone()).expect("pools");
        let restored = alloc.restore(records).expect("the store is consistent");
        assert!(
            restored.orphaned.is_empty(),
            "no pool was removed: {restored:?}"
        );
        assert!(
            restored.superseded.is_empty(),
            "an atomic store left a clash: {restored:?}"
        );
        self.alloc = alloc;
    }

    pub fn input_for(&mut self, id: &str, c: &Container) -> AddInput {
        AddInput {
            attachment: attachment(id),
            network: "net".into(),
            pod: PodRef {
                namespace: c.namespace.clone(),
                name: c.pod.clone(),
                uid: format!("uid-{id}"),
            },
            interface: "eth0".into(),
            pools: c.pools.clone(),
            requested: Vec::new(),
            labels: Vec::new(),
            annotations: Vec::new(),
            owner: None,
            stateful_set: match c.kind {
                PodKind::Sts { sts, ordinal } => Some(StatefulSet {
                    name: self.sts[sts].name.clone(),
                    ordinal,
                    replicas: None,
                }),
                PodKind::Stateless => None,
            },
            node: c.node.clone(),
            placement: None,
            seed: self.rng.random(),
        }
    }

    pub fn identity_key(&self, c: &Container) -> Option<String> {
        match c.kind {
            PodKind::Sts { sts, ordinal } => {
                let s = &self.sts[sts];
                Some(format!("{}/{}/{ordinal}", s.namespace, s.name))
            }
            PodKind::Stateless => None,
        }
    }

    /// A new container ADDs; returns its id when it got addresses.
    pub fn start(
        &mut self,
        pod: String,
        namespace: String,
        kind: PodKind,
        pools: Vec<String>,
    ) -> Option<String> {
        self.next_id += 1;
        let id = format!("ctr-{}", self.next_id);
        let node = NODES[self.rng.random_range(0..NODES.len())].to_owned();
        let mut c = Container {
            pod,
            namespace,
            kind,
            pools,
            node,
            result: Vec::new(),
            live: false,
        };
        let input = self.input_for(&id, &c);
        let plan = match self.alloc.plan_add(&input, &self.chain, self.now) {
            Ok(plan) => plan,
            Err(e) => {
                self.check_failure(&c, &e);
                return None;
            }
        };
        let result: Vec<IpAddr> = plan.result.iter().map(|a| a.address).collect();
        self.check_add(&c, &result);
        if self.rng.random_bool(0.05) {
            // Crash after the store write, before apply and the answer:
            // the runtime retries the same ADD against the restarted daemon.
            self.persist(&plan.mutations);
            self.restart_daemon();
            let retry = self
                .alloc
                .plan_add(&input, &self.chain, self.now)
                .expect("retry");
            assert!(retry.mutations.is_empty(), "retry after crash re-allocated");
            let again: Vec<IpAddr> = retry.result.iter().map(|a| a.address).collect();
            assert_eq!(again, result, "retry after crash answered differently");
        } else if !self.commit(&plan.mutations) {
            // The runtime was told the ADD failed: nothing of it is held.
            assert!(
                self.alloc
                    .records_of_attachment(&attachment(&id))
                    .is_empty(),
                "a failed ADD left {id} holding an address"
            );
            return None;
        }
        c.result = result;
        c.live = true;
        self.containers.insert(id.clone(), c);
        Some(id)
    }

    /// Checks an ADD's answer against the state it was planned from:
    /// nobody else's address is taken; a held sticky address is kept.
    fn check_add(&self, c: &Container, result: &[IpAddr]) {
        let key = self.identity_key(c);
        for addr in result {
            if let Some(prior) = self.alloc.record(*addr) {
                assert!(
                    key.is_some() && prior.identity_key() == key.as_deref(),
                    "{addr} handed to {} while held by {:?}",
                    c.pod,
                    prior.pod.name
                );
            }
        }
        let Some(key) = key else { return };
        for held in self.alloc.records_of_identity(&key) {
            if held.interface == "eth0" && c.pools.contains(&held.pool) {
                assert!(
                    result.contains(&held.address),
                    "{key} held {} of pool {} but got {result:?}",
                    held.address,
                    held.pool
                );
            }
        }
    }

    /// The runtime deletes a container: DEL sent (maybe twice) or lost.
    pub fn stop(&mut self, id: &str, lost: bool) {
        let Some(c) = self.containers.get_mut(id) else {
            return;
        };
        c.live = false;
        if lost {
            return;
        }
        let mutations = self.alloc.plan_del(&attachment(id), self.now);
        if !self.commit(&mutations) {
            // The DEL failed; the container stays dead in the runtime's
            // books and a later GC of its node collects it.
            return;
        }
        if self.rng.random_bool(0.1) {
            assert!(
                self.alloc.plan_del(&attachment(id), self.now).is_empty(),
                "DEL not idempotent"
            );
        }
        self.containers.remove(id);
    }

    /// CNI GC from one node's runtime, with the live attachments of that
    /// node only (what containerd sends). Afterwards no attached record of
    /// that node belongs to a dead container, and no other node's record
    /// changed: the other nodes' containers are not in `valid`, yet live.
    pub fn gc(&mut self, node: &str) {
        let valid: Vec<Attachment> = self
            .containers
            .iter()
            .filter(|(_, c)| c.live && c.node == node)
            .map(|(id, _)| attachment(id))
            .collect();
        let others_before: Vec<AddressRecord> = self
            .alloc
            .records()
            .filter(|r| r.node != node)
            .cloned()
            .collect();
        let mutations = self
            .alloc
            .plan_gc("net", &valid, &NodeScope::only(node), self.now);
        if !self.commit(&mutations) {
            return; // the runtime sends GC again later
        }
        self.containers.retain(|_, c| c.live || c.node != node);
        for r in self.alloc.records().filter(|r| r.node == node) {
            if let Some(att) = &r.attachment {
                assert!(
                    valid.contains(att),
                    "{} attached to dead {}",
                    r.address,
                    att.container_id
                );
            }
        }
        for before in others_before {
            assert_eq!(
                self.alloc.record(before.address),
                Some(&before),
                "GC on {node} changed {}'s record",
                before.node
            );
        }
    }

    /// Every node's runtime sends its GC.
    pub fn gc_every_node(&mut self) {
        for node in NODES {
            self.gc(node);
        }
    }

    /// One node's expiry pass: only its own retained records go.
    pub fn expire(&mut self, node: &str) {
        let mutations = self.alloc.plan_expire(&NodeScope::only(node), self.now);
        for m in &mutations {
            let address = match m {
                Mutation::Remove { address, .. } => *address,
                Mutation::Put(r) => r.address,
            };
            let record = self
                .alloc
                .record(address)
                .expect("expiry of a held address");
            assert_eq!(
                record.node, node,
                "{node} expired {}'s {address}",
                record.node
            );
        }
        // A failed expiry is retried at the next pass.
        let _expired = self.commit(&mutations);
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }
}

pub fn attachment(id: &str) -> Attachment {
    Attachment {
        container_id: id.into(),
        ifname: "eth0".into(),
    }
}

impl World {
    /// ADD failures the simulation provokes on purpose (full pools, the
    /// failing policy); anything else, or exhaustion while an address was
    /// available to the pod, is a bug.
    fn check_failure(&self, c: &Container, e: &AllocError) {
        match e {
            AllocError::Chain(ChainError::Failed { .. }) => {}
            AllocError::PoolExhausted {
                family,
                pools,
                retained,
            } => {
                let counted = self
                    .alloc
                    .records()
                    .filter(|r| !r.is_attached() && pools.contains(&r.pool))
                    .count();
                assert_eq!(*retained, counted, "{e}: the retained count is wrong");
                for usage in self.alloc.pool_usage() {
                    if pools.contains(&usage.name) {
                        assert_eq!(usage.used, usage.total, "{e} but {} has room", usage.name);
                    }
                }
                let key = self.identity_key(c).unwrap_or_default();
                for held in self.alloc.records_of_identity(&key) {
                    assert!(
                        held.family() != *family || !pools.contains(&held.pool),
                        "{e} but {key} holds {}",
                        held.address
                    );
                }
            }
            _ => panic!("unexpected ADD failure: {e}"),
        }
    }
}
