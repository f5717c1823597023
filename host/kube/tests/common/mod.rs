//! Shared test setup: a stand-in API server serving the Berth CRDs, a
//! client-side multi-thread runtime (the stores' requests run there while
//! the tests call the sync `Store` methods from the test thread), record
//! and request builders, and a policy chain with no policies.
#![allow(dead_code, clippy::unwrap_used)]

use berth_core::chain::{run_chain, ChainError, ChainHost, ChainOutcome, PolicyChain};
use berth_core::pool::PoolSpec;
use berth_core::record::{AddressRecord, RecordState};
use berth_core::AddInput;
use berth_kube::KubeStore;
use berth_kube_standin::ApiServer;
use berth_policy_sdk::{Identity, Request, Retention};
use berth_proto::{Attachment, PodRef};
use kube::api::{Api, PostParams};
use kube::Client;

pub struct Cluster {
    pub server: ApiServer,
    pub rt: tokio::runtime::Runtime,
}

impl Cluster {
    pub fn start() -> Self {
        let server = ApiServer::start().unwrap();
        server.register_berth_kinds();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        Cluster { server, rt }
    }

    /// A new client (its own connection pool, like another node's daemon).
    pub fn client(&self) -> Client {
        self.rt.block_on(async { self.server.client() }).unwrap()
    }

    pub fn store(&self, node: &str) -> KubeStore {
        KubeStore::new(self.client(), node, self.rt.handle().clone())
    }

    pub fn create_pool(&self, spec: &PoolSpec) {
        let api: Api<berth_kube::BerthPool> = Api::all(self.client());
        let pool = berth_kube::convert::berth_pool(spec);
        self.rt
            .block_on(api.create(&PostParams::default(), &pool))
            .unwrap();
    }

    pub fn address_objects(&self) -> Vec<serde_json::Value> {
        self.server.objects(&berth_kube_standin::Gvr::new(
            "berth.io",
            "v1alpha1",
            "berthaddresses",
        ))
    }
}

pub fn pool_spec(name: &str, subnet: &str, ips: &[&str]) -> PoolSpec {
    PoolSpec {
        name: name.to_owned(),
        subnet: subnet.to_owned(),
        ips: ips.iter().map(|s| (*s).to_owned()).collect(),
        exclude_ips: Vec::new(),
        gateway: None,
        routes: Vec::new(),
        default: true,
        namespace_selector: Default::default(),
        node_selector: Default::default(),
        ..PoolSpec::default()
    }
}

pub fn record(pool: &str, address: &str, container: &str) -> AddressRecord {
    AddressRecord {
        pool: pool.to_owned(),
        address: address.parse().unwrap(),
        network: "net1".to_owned(),
        attachment: Some(Attachment {
            container_id: container.to_owned(),
            ifname: "eth0".to_owned(),
        }),
        pod: PodRef {
            namespace: "default".to_owned(),
            name: format!("pod-{container}"),
            uid: format!("00000000-0000-0000-0000-{container:0>12}"),
        },
        interface: "eth0".to_owned(),
        identity: None,
        state: RecordState::Attached,
        node: "node-1".to_owned(),
        owner: None,
        stateful_set: None,
        created_at_unix_secs: 1_700_000_000,
        trace: Vec::new(),
    }
}

pub fn with_identity(mut r: AddressRecord, key: &str) -> AddressRecord {
    r.identity = Some(Identity {
        key: key.to_owned(),
        retention: Retention::KeepUntilRetired(300),
    });
    r
}

pub fn retained(mut r: AddressRecord) -> AddressRecord {
    r.attachment = None;
    r.state = RecordState::Retained {
        since_unix_secs: 1_700_000_100,
        expires_at_unix_secs: Some(1_700_000_400),
    };
    r
}

/// A chain with no policies: no identity, no stickiness, the allocator's
/// first free candidate.
pub struct NoPolicies;

/// No policies, then the candidates rotated by a hash of the node: what a
/// "spread" policy's reorder does, so nodes sharing a pool start from
/// different free addresses instead of all racing for the lowest one.
pub struct SpreadByNode;

impl PolicyChain for SpreadByNode {
    fn run(&self, request: Request, host: &dyn ChainHost) -> Result<ChainOutcome, ChainError> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        request.node.hash(&mut h);
        let mut out = run_chain(&mut [], request, host)?;
        if !out.candidates.is_empty() {
            let n = (h.finish() % out.candidates.len() as u64) as usize;
            out.candidates.rotate_left(n);
        }
        Ok(out)
    }
}

impl PolicyChain for NoPolicies {
    fn run(&self, request: Request, host: &dyn ChainHost) -> Result<ChainOutcome, ChainError> {
        run_chain(&mut [], request, host)
    }
}

pub fn add_input(container: &str, node: &str) -> AddInput {
    AddInput {
        attachment: Attachment {
            container_id: container.to_owned(),
            ifname: "eth0".to_owned(),
        },
        network: "net1".to_owned(),
        pod: PodRef {
            namespace: "default".to_owned(),
            name: format!("pod-{container}"),
            uid: format!("uid-{container}"),
        },
        interface: "eth0".to_owned(),
        pools: Vec::new(),
        requested: Vec::new(),
        labels: Vec::new(),
        annotations: Vec::new(),
        owner: None,
        stateful_set: None,
        node: node.to_owned(),
        placement: None,
        seed: 7,
    }
}

/// One node's daemon, reduced to what the store race needs: an allocator
/// behind a lock (held across plan → persist → apply, as berthd does) and
/// its KubeStore.
pub struct Node {
    pub name: String,
    pub pools: Vec<berth_core::Pool>,
    pub alloc: std::sync::Mutex<berth_core::Allocator>,
    pub store: KubeStore,
    /// Seed of node-spread search cursors (`Allocator::spread_cursors`, as
    /// berthd does); `None` searches from the lowest address.
    pub cursor_seed: Option<u64>,
}

/// How one ADD went.
#[derive(Debug, Default, Clone, Copy)]
pub struct AddStats {
    pub conflicts: u32,
}

impl Node {
    pub fn new(name: &str, pools: &[PoolSpec], store: KubeStore) -> Node {
        let pools: Vec<_> = pools
            .iter()
            .map(|p| berth_core::Pool::from_spec(p).unwrap())
            .collect();
        let mut alloc = berth_core::Allocator::new(pools.clone()).unwrap();
        use berth_core::store::Store;
        alloc.restore(store.load().unwrap()).unwrap();
        store.loaded();
        Node {
            name: name.to_owned(),
            pools,
            alloc: std::sync::Mutex::new(alloc),
            store,
            cursor_seed: None,
        }
    }

    /// Starts each pool's free-address search at a point derived from
    /// `seed`, as berthd does with a hash of its node name.
    pub fn with_spread_cursors(mut self, seed: u64) -> Node {
        self.alloc.get_mut().unwrap().spread_cursors(seed);
        self.cursor_seed = Some(seed);
        self
    }

    /// plan → persist → apply; on `Conflict` rebuild the allocator from
    /// `load()` and plan again. Errors other than conflicts end the ADD.
    pub fn add(
        &self,
        input: &AddInput,
        chain: &dyn PolicyChain,
        attempts: u32,
    ) -> Result<(std::net::IpAddr, AddStats), String> {
        use berth_core::store::{Store, StoreError};
        let mut stats = AddStats::default();
        let mut alloc = self.alloc.lock().unwrap();
        for _ in 0..attempts {
            let plan = alloc
                .plan_add(input, chain, 1_700_000_000)
                .map_err(|e| e.to_string())?;
            match self.store.apply(&plan.mutations) {
                Ok(()) => {
                    alloc.apply(&plan.mutations);
                    return Ok((plan.result[0].address, stats));
                }
                Err(StoreError::Conflict { .. }) => {
                    stats.conflicts += 1;
                    let records = self.store.load().map_err(|e| e.to_string())?;
                    let mut fresh = berth_core::Allocator::new(self.pools.clone()).unwrap();
                    fresh.restore(records).map_err(|e| e.to_string())?;
                    self.store.loaded();
                    if let Some(seed) = self.cursor_seed {
                        fresh.spread_cursors(seed);
                    }
                    *alloc = fresh;
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        Err(format!("still conflicting after {attempts} attempts"))
    }
}
