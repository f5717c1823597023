//! Requests for the harness, with sensible defaults, and the small
//! builders of pools, candidates and bindings that go into them.

use crate::{Binding, Candidate, Identity, IpFamily, KeyValue, Owner, Pool, Request, StatefulSet};

/// Builds a [`Request`]. Defaults: namespace `default`, pod `test-pod`,
/// interface `eth0`, IPv4, one pool `default-pool` (10.0.0.0/24) and three
/// free candidates 10.0.0.10-12 in it.
#[derive(Debug, Clone)]
pub struct RequestBuilder {
    request: Request,
}

impl Default for RequestBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestBuilder {
    pub fn new() -> Self {
        let pool = pool("default-pool", "10.0.0.0/24");
        let candidates = (10..13)
            .map(|n| candidate("default-pool", &format!("10.0.0.{n}")))
            .collect();
        Self {
            request: Request {
                namespace: "default".into(),
                pod_name: "test-pod".into(),
                pod_uid: "00000000-0000-0000-0000-000000000001".into(),
                container_id: "container-1".into(),
                labels: Vec::new(),
                annotations: Vec::new(),
                node: "node-1".into(),
                interface: "eth0".into(),
                family: IpFamily::V4,
                owner: None,
                stateful_set: None,
                free_total: pool.free,
                pools: vec![pool],
                identity: None,
                bindings: Vec::new(),
                candidates,
                requested: None,
                seed: 1,
                now_unix_secs: 1_700_000_000,
            },
        }
    }

    /// A busy node's request: eight pools (`pool-0`..`pool-7`, 10.i.0.0/16)
    /// and a sample of 32 candidates spread over them, for a pod labelled
    /// `app=db`. Every latency measurement (`berth-policy bench`, the
    /// runtime's benches) times this one shape, so their figures compare;
    /// the caller adds the pod's owner (a StatefulSet member, a
    /// ReplicaSet's pod) before `build`.
    pub fn busy_node() -> Self {
        let pools = (0..8)
            .map(|i| pool(&format!("pool-{i}"), &format!("10.{i}.0.0/16")))
            .collect();
        let candidates = (0..32)
            .map(|i| {
                candidate(
                    &format!("pool-{}", i % 8),
                    &format!("10.{}.0.{}", i % 8, 10 + i),
                )
            })
            .collect();
        Self::new()
            .label("app", "db")
            .pools(pools)
            .candidates(candidates)
    }

    /// The README's seed scenario: one pool `test-ippool` (10.6.0.0/16)
    /// and the two candidates 10.6.168.101 and 10.6.168.102 in it.
    pub fn seed_pool() -> Self {
        Self::new()
            .pools(vec![pool("test-ippool", "10.6.0.0/16")])
            .candidates(vec![
                candidate("test-ippool", "10.6.168.101"),
                candidate("test-ippool", "10.6.168.102"),
            ])
    }

    pub fn namespace(mut self, namespace: &str) -> Self {
        self.request.namespace = namespace.into();
        self
    }

    pub fn pod_name(mut self, name: &str) -> Self {
        self.request.pod_name = name.into();
        self
    }

    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.request.labels.push(kv(key, value));
        self
    }

    pub fn annotation(mut self, key: &str, value: &str) -> Self {
        self.request.annotations.push(kv(key, value));
        self
    }

    pub fn interface(mut self, interface: &str) -> Self {
        self.request.interface = interface.into();
        self
    }

    pub fn family(mut self, family: IpFamily) -> Self {
        self.request.family = family;
        self
    }

    pub fn owner(mut self, kind: &str, name: &str) -> Self {
        self.request.owner = Some(Owner {
            kind: kind.into(),
            name: name.into(),
            uid: format!("uid-{name}"),
        });
        self
    }

    /// Makes the pod ordinal `ordinal` of StatefulSet `name`: also sets the
    /// pod name (`name-ordinal`) and the owner, as the host would.
    pub fn stateful_set(self, name: &str, ordinal: u32) -> Self {
        let mut this = self
            .pod_name(&format!("{name}-{ordinal}"))
            .owner("StatefulSet", name);
        this.request.stateful_set = Some(StatefulSet {
            name: name.into(),
            ordinal,
            replicas: None,
        });
        this
    }

    /// Replaces the candidate pools (and recomputes `free_total`).
    pub fn pools(mut self, pools: Vec<Pool>) -> Self {
        self.request.free_total = pools.iter().map(|p| p.free).fold(0, u64::saturating_add);
        self.request.pools = pools;
        self
    }

    pub fn candidates(mut self, candidates: Vec<Candidate>) -> Self {
        self.request.candidates = candidates;
        self
    }

    pub fn identity(mut self, identity: Identity) -> Self {
        self.request.identity = Some(identity);
        self
    }

    pub fn bindings(mut self, bindings: Vec<Binding>) -> Self {
        self.request.bindings = bindings;
        self
    }

    pub fn requested(mut self, address: &str) -> Self {
        self.request.requested = Some(address.into());
        self
    }

    pub fn build(self) -> Request {
        self.request
    }
}

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: value.into(),
    }
}

/// A pool with a family taken from its subnet, 254 addresses, 251 free.
pub fn pool(name: &str, subnet: &str) -> Pool {
    Pool {
        name: name.into(),
        subnet: subnet.into(),
        family: if subnet.contains(':') {
            IpFamily::V6
        } else {
            IpFamily::V4
        },
        total: 254,
        free: 251,
        namespace_used: 0,
    }
}

pub fn candidate(pool: &str, address: &str) -> Candidate {
    Candidate {
        pool: pool.into(),
        address: address.into(),
    }
}

/// An attached binding on `eth0`, family from the address.
pub fn binding(pool: &str, address: &str) -> Binding {
    Binding {
        pool: pool.into(),
        address: address.into(),
        interface: "eth0".into(),
        family: if address.contains(':') {
            IpFamily::V6
        } else {
            IpFamily::V4
        },
        attached: false,
    }
}
