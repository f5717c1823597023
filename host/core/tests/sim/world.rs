//! The simulated cluster's state: pods, StatefulSets, the allocator, and
//! a model store that receives every planned batch before the allocator
//! applies it; a daemon that crashes restarts from that store. What the
//! container runtime does to it is `runtime.rs`; what each answer must
//! satisfy is `checks.rs`.

use crate::common::{NativeChain, StepSpec};
use berth_core::chain::FailurePolicy;
use berth_core::{AddInput, AddressRecord, Allocator, Mutation, Pool};
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
    pub(super) next_id: u64,
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

    pub(super) fn persist(&mut self, mutations: &[Mutation]) {
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
