//! Native policy chains and builders shared by the core's tests.
#![allow(dead_code)]

use berth_core::chain::{
    run_chain, ChainError, ChainHost, ChainOutcome, FailurePolicy, PolicyChain, PolicyError,
    PolicyErrorKind, PolicyStep,
};
use berth_core::{AddInput, Allocator, Mutation, Pool, PoolSpec};
use berth_policy_sdk::{Candidate, Decision, Identity, Request, Retention, StatefulSet};
use berth_proto::{Attachment, PodRef};

/// What a native step does; a fresh step is built per run, like the Wasm
/// runtime's fresh instance per evaluation.
#[derive(Debug, Clone)]
pub enum StepSpec {
    Abstain,
    /// Mirrors the default `sticky-statefulset` policy: identity
    /// `ns/sts/ordinal`, retained until retired then `grace` seconds; picks
    /// the held address for this interface and family.
    Sticky {
        grace: u64,
    },
    /// Errs in `phase_evaluate` (else identify) when `seed % every == 0`.
    Failing {
        every: u64,
        in_evaluate: bool,
        policy: FailurePolicy,
    },
    /// Rejects requests of this family.
    RejectFamily(berth_policy_sdk::IpFamily),
}

pub struct NativeChain {
    pub steps: Vec<StepSpec>,
}

impl NativeChain {
    pub fn new(steps: Vec<StepSpec>) -> Self {
        Self { steps }
    }
    pub fn abstaining() -> Self {
        Self::new(Vec::new())
    }
    pub fn sticky() -> Self {
        Self::new(vec![StepSpec::Sticky { grace: 0 }])
    }
}

impl PolicyChain for NativeChain {
    fn run(&self, request: Request, host: &dyn ChainHost) -> Result<ChainOutcome, ChainError> {
        let mut steps: Vec<NativeStep> = self
            .steps
            .iter()
            .enumerate()
            .map(|(i, spec)| NativeStep {
                name: format!("step-{i}"),
                spec: spec.clone(),
            })
            .collect();
        let mut refs: Vec<&mut dyn PolicyStep> =
            steps.iter_mut().map(|s| s as &mut dyn PolicyStep).collect();
        run_chain(&mut refs, request, host)
    }
}

struct NativeStep {
    name: String,
    spec: StepSpec,
}

impl NativeStep {
    fn fails(&self, request: &Request, evaluate: bool) -> Result<(), PolicyError> {
        if let StepSpec::Failing {
            every, in_evaluate, ..
        } = &self.spec
        {
            if *in_evaluate == evaluate && request.seed.is_multiple_of(*every) {
                return Err(PolicyError::new(PolicyErrorKind::Trap, "injected fault"));
            }
        }
        Ok(())
    }
}

impl PolicyStep for NativeStep {
    fn name(&self) -> &str {
        &self.name
    }

    fn failure_policy(&self) -> FailurePolicy {
        match &self.spec {
            StepSpec::Failing { policy, .. } => *policy,
            _ => FailurePolicy::Fail,
        }
    }

    fn identify(&mut self, request: &Request) -> Result<Option<Identity>, PolicyError> {
        self.fails(request, false)?;
        Ok(match &self.spec {
            StepSpec::Sticky { grace } => request.stateful_set.as_ref().map(|sts| Identity {
                key: format!("{}/{}/{}", request.namespace, sts.name, sts.ordinal),
                retention: Retention::KeepUntilRetired(*grace),
            }),
            _ => None,
        })
    }

    fn evaluate(&mut self, request: &Request) -> Result<Decision, PolicyError> {
        self.fails(request, true)?;
        Ok(match &self.spec {
            StepSpec::Sticky { .. } if request.stateful_set.is_some() => request
                .candidates
                .iter()
                .find(|c| {
                    request.bindings.iter().any(|b| {
                        b.pool == c.pool
                            && b.address == c.address
                            && b.interface == request.interface
                            && b.family == request.family
                    })
                })
                .cloned()
                .map_or(Decision::Abstain, Decision::Pick),
            StepSpec::RejectFamily(f) if request.family == *f => {
                Decision::Reject(format!("no {f:?} for you"))
            }
            _ => Decision::Abstain,
        })
    }
}

pub fn spec(name: &str, subnet: &str, ips: &[&str]) -> PoolSpec {
    PoolSpec {
        name: name.into(),
        subnet: subnet.into(),
        ips: ips.iter().map(|s| s.to_string()).collect(),
        exclude_ips: Vec::new(),
        gateway: None,
        routes: Vec::new(),
        default: false,
        namespace_selector: Default::default(),
        node_selector: Default::default(),
        ..PoolSpec::default()
    }
}

pub fn pool(name: &str, subnet: &str, ips: &[&str]) -> Pool {
    Pool::from_spec(&spec(name, subnet, ips)).expect("valid pool")
}

pub fn attachment(container: &str) -> Attachment {
    Attachment {
        container_id: container.into(),
        ifname: "eth0".into(),
    }
}

/// An ADD for `container` of pod `ns/name`, from `pools`.
pub fn input(container: &str, name: &str, pools: &[&str]) -> AddInput {
    AddInput {
        attachment: attachment(container),
        network: "net".into(),
        pod: PodRef {
            namespace: "default".into(),
            name: name.into(),
            uid: format!("uid-{container}"),
        },
        interface: "eth0".into(),
        pools: pools.iter().map(|s| s.to_string()).collect(),
        requested: Vec::new(),
        labels: Vec::new(),
        annotations: Vec::new(),
        owner: None,
        stateful_set: None,
        node: "node-a".into(),
        placement: None,
        seed: 1,
    }
}

pub fn sts_input(container: &str, sts: &str, ordinal: u32, pools: &[&str]) -> AddInput {
    let mut add = input(container, &format!("{sts}-{ordinal}"), pools);
    add.stateful_set = Some(StatefulSet {
        name: sts.into(),
        ordinal,
        replicas: None,
    });
    add
}

/// plan_add + apply, returning the addresses.
pub fn add(
    alloc: &mut Allocator,
    input: &AddInput,
    chain: &dyn PolicyChain,
    now: u64,
) -> Result<Vec<std::net::IpAddr>, berth_core::AllocError> {
    let plan = alloc.plan_add(input, chain, now)?;
    alloc.apply(&plan.mutations);
    alloc.check_invariants().expect("invariants");
    Ok(plan.result.iter().map(|a| a.address).collect())
}

pub fn apply(alloc: &mut Allocator, mutations: &[Mutation]) {
    alloc.apply(mutations);
    alloc.check_invariants().expect("invariants");
}

pub fn candidate(pool: &str, address: &str) -> Candidate {
    Candidate {
        pool: pool.into(),
        address: address.into(),
    }
}

/// Plans from the current state, then applies and checks invariants.
pub fn run(alloc: &mut Allocator, plan: impl FnOnce(&Allocator) -> Vec<Mutation>) {
    let mutations = plan(alloc);
    apply(alloc, &mutations);
}
