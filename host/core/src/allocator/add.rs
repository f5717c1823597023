//! Planning an ADD: candidate pools per family, the policy chain, the
//! choice, and the mutations that bind the chosen addresses.

use super::host::RequestHost;
use super::input::{bounded_pairs, AddInput, AddPlan, Assigned};
use super::Allocator;
use crate::chain::{PolicyChain, TraceStep};
use crate::error::AllocError;
use crate::limits::CHAIN_CANDIDATES_MAX;
use crate::pool::family_of;
use crate::record::{recorded_trace, AddressRecord, Mutation, OwnerRef, RecordState};
use berth_policy_sdk::{Identity, IpFamily, Request};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// The address chosen for one family.
struct Choice {
    pool: usize,
    address: IpAddr,
    identity: Option<Identity>,
    trace: Vec<TraceStep>,
}

impl Allocator {
    /// Plans an ADD without changing anything. Idempotent: an attachment
    /// that already holds addresses gets them again and no mutations. Dual
    /// stack is all or nothing: any family failing fails the whole plan.
    pub fn plan_add(
        &self,
        input: &AddInput,
        chain: &dyn PolicyChain,
        now_unix_secs: u64,
    ) -> Result<AddPlan, AllocError> {
        let held = self.records_of_attachment(&input.attachment);
        if !held.is_empty() {
            return self.existing_plan(&held);
        }
        let pools = self.candidate_pools(&input.pools, input.placement.as_ref())?;
        let requested = self.check_requested(&input.requested, &pools)?;
        let mut families: Vec<IpFamily> = Vec::new();
        for &i in &pools {
            if !families.contains(&self.pools[i].family) {
                families.push(self.pools[i].family);
            }
        }
        let mut plan = AddPlan {
            mutations: Vec::new(),
            result: Vec::new(),
            trace: Vec::new(),
        };
        for family in families {
            let fam_pools: Vec<usize> = pools
                .iter()
                .copied()
                .filter(|i| self.pools[*i].family == family)
                .collect();
            let want = requested.iter().copied().find(|a| family_of(a) == family);
            let choice = self.choose(input, family, &fam_pools, want, chain, now_unix_secs)?;
            plan.trace.extend(choice.trace.iter().cloned());
            plan.result.push(self.assigned(choice.pool, choice.address));
            self.bind(input, choice, now_unix_secs, &mut plan.mutations);
        }
        Ok(plan)
    }

    fn existing_plan(&self, held: &[AddressRecord]) -> Result<AddPlan, AllocError> {
        let mut result = Vec::with_capacity(held.len());
        for r in held {
            let pool = self
                .pool_index
                .get(&r.pool)
                .copied()
                .filter(|i| self.pools[*i].is_assignable(r.address))
                .ok_or_else(|| AllocError::Orphaned {
                    pool: r.pool.clone(),
                    address: r.address,
                })?;
            result.push(self.assigned(pool, r.address));
        }
        Ok(AddPlan {
            mutations: Vec::new(),
            result,
            trace: held.iter().flat_map(|r| r.trace.iter().cloned()).collect(),
        })
    }

    fn assigned(&self, pool: usize, address: IpAddr) -> Assigned {
        let p = &self.pools[pool];
        Assigned {
            pool: p.name.clone(),
            address,
            prefix_len: p.subnet.prefix_len(),
            gateway: p.gateway,
            routes: p.routes.clone(),
        }
    }

    fn choose(
        &self,
        input: &AddInput,
        family: IpFamily,
        pools: &[usize],
        want: Option<IpAddr>,
        chain: &dyn PolicyChain,
        now_unix_secs: u64,
    ) -> Result<Choice, AllocError> {
        let candidates = match want {
            Some(addr) => {
                let pool = pools
                    .iter()
                    .find(|i| self.pools[**i].is_assignable(addr))
                    .map(|i| self.pools[*i].name.clone())
                    .unwrap_or_default();
                vec![berth_policy_sdk::Candidate {
                    pool,
                    address: addr.to_string(),
                }]
            }
            None => self.sample(pools, CHAIN_CANDIDATES_MAX),
        };
        let views: Vec<_> = pools
            .iter()
            .map(|i| self.pool_view(*i, &input.pod.namespace))
            .collect();
        let request = Request {
            namespace: input.pod.namespace.clone(),
            pod_name: input.pod.name.clone(),
            pod_uid: input.pod.uid.clone(),
            container_id: input.attachment.container_id.clone(),
            labels: bounded_pairs(&input.labels),
            annotations: bounded_pairs(&input.annotations),
            node: input.node.clone(),
            interface: input.interface.clone(),
            family,
            owner: input.owner.as_ref().map(OwnerRef::for_policy),
            stateful_set: input.stateful_set.clone(),
            free_total: views.iter().map(|v| v.free).fold(0, u64::saturating_add),
            pools: views,
            identity: None,
            bindings: Vec::new(),
            candidates,
            requested: want.map(|a| a.to_string()),
            seed: input.seed,
            now_unix_secs,
        };
        let host = RequestHost { alloc: self, pools };
        let outcome = chain.run(request, &host)?;
        let key = outcome.identity.as_ref().map(|i| i.key.as_str());
        let named = |name: &str| pools.iter().copied().find(|i| self.pools[*i].name == name);

        let pick = outcome.picked.as_ref().or(outcome.candidates.first());
        let (pool, address) = match pick {
            Some(c) => {
                let pool = named(&c.pool)
                    .ok_or_else(|| internal(format!("chain chose unknown pool {:?}", c.pool)))?;
                let address = c
                    .address
                    .parse::<IpAddr>()
                    .map_err(|_| internal(format!("chain chose {:?}", c.address)))?;
                (pool, address)
            }
            None if !outcome.narrowed => outcome
                .pools
                .iter()
                .filter_map(|name| named(name))
                .find_map(|i| self.first_free(i).map(|a| (i, a)))
                .ok_or_else(|| self.nothing_free(family, &outcome.pools))?,
            None => {
                return Err(match want {
                    Some(addr) => AllocError::AddressUnavailable {
                        address: addr.to_string(),
                        reason: self.why_not_offered(addr, pools),
                    },
                    None => self.nothing_free(family, &outcome.pools),
                })
            }
        };
        // Validate the choice again: the chain checked the policies, this
        // checks the chain and the sample.
        if let Some(w) = want {
            if w != address {
                return Err(internal(format!("asked for {w}, chose {address}")));
            }
            if !self.can_take(pool, address, key) {
                return Err(AllocError::AddressUnavailable {
                    address: address.to_string(),
                    reason: self.why_not_offered(address, &[pool]),
                });
            }
        }
        let in_chain_pools = outcome.pools.iter().any(|p| *p == self.pools[pool].name);
        if !in_chain_pools
            || self.pools[pool].family != family
            || !self.can_take(pool, address, key)
        {
            debug_assert!(false, "chosen {address} is not legal");
            return Err(internal(format!(
                "chosen address {address} is not legal for this request"
            )));
        }
        Ok(Choice {
            pool,
            address,
            identity: outcome.identity,
            trace: recorded_trace(outcome.trace),
        })
    }

    /// Mutations binding `choice` to the attachment. The identity's previous
    /// address on this interface+family (pool change, new pick) is released
    /// first, so an identity slot never holds two addresses.
    fn bind(&self, input: &AddInput, choice: Choice, now: u64, out: &mut Vec<Mutation>) {
        let family = family_of(&choice.address);
        if let Some(identity) = &choice.identity {
            for r in self.records_of_identity(&identity.key) {
                if r.interface == input.interface
                    && r.family() == family
                    && r.address != choice.address
                {
                    out.push(Mutation::Remove {
                        pool: r.pool.clone(),
                        address: r.address,
                    });
                }
            }
        }
        let created = self
            .records
            .get(&choice.address)
            .map_or(now, |r| r.created_at_unix_secs);
        out.push(Mutation::Put(AddressRecord {
            pool: self.pools[choice.pool].name.clone(),
            address: choice.address,
            network: input.network.clone(),
            attachment: Some(input.attachment.clone()),
            pod: input.pod.clone(),
            interface: input.interface.clone(),
            identity: choice.identity,
            state: RecordState::Attached,
            node: input.node.clone(),
            owner: input.owner.clone(),
            stateful_set: input.stateful_set.clone(),
            created_at_unix_secs: created,
            trace: choice.trace,
        }));
    }
}

impl Allocator {
    /// No address of `family` for a new binding in `names`: disabled pools
    /// are named as such, since waiting frees nothing there.
    fn nothing_free(&self, family: IpFamily, names: &[String]) -> AllocError {
        let disabled = |name: &String| self.pool(name).is_some_and(|p| p.disabled);
        if !names.is_empty() && names.iter().all(disabled) {
            AllocError::PoolsDisabled {
                family,
                pools: names.to_vec(),
            }
        } else {
            // How many addresses are retained for sticky identities: the
            // one count that tells an operator whether `release` helps.
            let distinct: BTreeSet<&String> = names.iter().collect();
            let retained = distinct
                .into_iter()
                .filter_map(|n| self.retained_by_pool.get(n))
                .sum::<u64>();
            let retained = usize::try_from(retained).unwrap_or(usize::MAX);
            AllocError::PoolExhausted {
                family,
                pools: names.to_vec(),
                retained,
            }
        }
    }

    /// Why a requested `address` (assignable in one of `pools`) cannot be
    /// given to this request.
    fn why_not_offered(&self, address: IpAddr, pools: &[usize]) -> String {
        if let Some(r) = self.records.get(&address) {
            return format!("held by pod {:?}", r.pod.name);
        }
        if self.reserved.contains(address) {
            return "it is reserved".to_owned();
        }
        match pools
            .iter()
            .find(|i| self.pools[**i].is_assignable(address))
        {
            Some(i) if self.pools[*i].disabled => {
                format!("its pool {:?} is disabled", self.pools[*i].name)
            }
            _ => "the policies left no candidate".to_owned(),
        }
    }
}

fn internal(message: String) -> AllocError {
    AllocError::Internal { message }
}
