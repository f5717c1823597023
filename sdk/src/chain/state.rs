//! The candidates as a run's policies leave them, and the legality rules
//! every decision is checked against before it changes them.

use super::{ChainHost, PolicyError};
use crate::limits::{DECISION_CANDIDATES_MAX, DECISION_STRING_BYTES_MAX};
use crate::{Binding, Candidate, Decision, Request};
use std::collections::HashSet;

/// The candidates as the policies so far have left them.
pub(super) struct State {
    pub pools: Vec<String>,
    /// The request's pools no longer match `pools` (at first, and after a
    /// restriction): project them before the next call.
    pub pools_changed: bool,
    pub candidates: Vec<Candidate>,
    pub picked: Option<Candidate>,
    pub narrowed: bool,
}

impl State {
    pub fn new(request: &Request, candidates: Vec<Candidate>) -> Self {
        Self {
            pools: request.pools.iter().map(|p| p.name.clone()).collect(),
            pools_changed: true,
            candidates,
            picked: None,
            narrowed: request.requested.is_some(),
        }
    }

    pub fn put_held_first(&mut self, bindings: &[Binding], request: &Request) {
        let held: Vec<Candidate> = bindings
            .iter()
            .filter(|b| b.interface == request.interface && b.family == request.family)
            .filter(|b| self.pools.contains(&b.pool))
            .map(|b| Candidate {
                pool: b.pool.clone(),
                address: b.address.clone(),
            })
            .filter(|c| {
                request
                    .requested
                    .as_ref()
                    .is_none_or(|want| *want == c.address)
            })
            .collect();
        if held.is_empty() {
            return;
        }
        self.candidates.retain(|c| !held.contains(c));
        let rest = std::mem::replace(&mut self.candidates, held);
        self.candidates.extend(rest);
    }

    /// Shows the next policy the current pools (the candidates are lent
    /// for the call itself).
    pub fn project_pools(&mut self, request: &mut Request) {
        if !std::mem::take(&mut self.pools_changed) {
            return;
        }
        let mut pools = std::mem::take(&mut request.pools);
        pools.retain(|p| self.pools.contains(&p.name));
        pools.sort_by_key(|p| self.pools.iter().position(|name| *name == p.name));
        request.free_total = pools.iter().map(|p| p.free).fold(0, u64::saturating_add);
        request.pools = pools;
    }

    pub fn apply(
        &mut self,
        decision: &Decision,
        request: &Request,
        host: &dyn ChainHost,
    ) -> Result<(), PolicyError> {
        match decision {
            Decision::Abstain | Decision::Reject(_) => Ok(()),
            Decision::RestrictPools(names) => self.restrict_pools(names),
            Decision::Narrow(list) => {
                let list = self.known_subset(list, "narrow")?;
                if list.is_empty() {
                    return Err(PolicyError::invalid(
                        "narrow to no candidates; reject with a reason instead",
                    ));
                }
                if let Some(picked) = &self.picked {
                    if !list.contains(picked) {
                        return Err(PolicyError::invalid(format!(
                            "narrow drops the picked address {}",
                            picked.address
                        )));
                    }
                }
                self.candidates = list;
                self.narrowed = true;
                Ok(())
            }
            Decision::Reorder(list) => {
                let front = self.known_subset(list, "reorder")?;
                self.candidates.retain(|c| !front.contains(c));
                let rest = std::mem::replace(&mut self.candidates, front);
                self.candidates.extend(rest);
                Ok(())
            }
            Decision::Pick(candidate) => self.pick(candidate, request, host),
        }
    }

    fn restrict_pools(&mut self, names: &[String]) -> Result<(), PolicyError> {
        let mut seen = HashSet::new();
        for name in names {
            if !self.pools.contains(name) {
                return Err(PolicyError::invalid(format!(
                    "restrict-pools names {name:?}, not a current pool"
                )));
            }
            if !seen.insert(name) {
                return Err(PolicyError::invalid(format!(
                    "restrict-pools names {name:?} twice"
                )));
            }
        }
        if names.is_empty() {
            return Err(PolicyError::invalid(
                "restrict-pools to no pools; reject with a reason instead",
            ));
        }
        if let Some(picked) = &self.picked {
            if !names.contains(&picked.pool) {
                return Err(PolicyError::invalid(format!(
                    "restrict-pools drops the pool of the picked address {}",
                    picked.address
                )));
            }
        }
        self.pools = names.to_vec();
        self.pools_changed = true;
        self.candidates.retain(|c| names.contains(&c.pool));
        Ok(())
    }

    /// Checks that `list` only names current candidates, once each.
    fn known_subset(&self, list: &[Candidate], what: &str) -> Result<Vec<Candidate>, PolicyError> {
        if list.len() > DECISION_CANDIDATES_MAX {
            return Err(PolicyError::invalid(format!(
                "{what} lists {} candidates, more than {DECISION_CANDIDATES_MAX}",
                list.len()
            )));
        }
        let mut seen = HashSet::new();
        for candidate in list {
            if !self.candidates.contains(candidate) {
                return Err(PolicyError::invalid(format!(
                    "{what} names {}/{}, not a current candidate",
                    candidate.pool, candidate.address
                )));
            }
            if !seen.insert(candidate) {
                return Err(PolicyError::invalid(format!(
                    "{what} names {} twice",
                    candidate.address
                )));
            }
        }
        Ok(list.to_vec())
    }

    fn pick(
        &mut self,
        candidate: &Candidate,
        request: &Request,
        host: &dyn ChainHost,
    ) -> Result<(), PolicyError> {
        if candidate.address.len() > DECISION_STRING_BYTES_MAX
            || candidate.pool.len() > DECISION_STRING_BYTES_MAX
        {
            return Err(PolicyError::invalid(
                "pick has an oversized pool or address",
            ));
        }
        if let Some(picked) = &self.picked {
            if picked != candidate {
                return Err(PolicyError::invalid(format!(
                    "pick {} after an earlier policy picked {}",
                    candidate.address, picked.address
                )));
            }
            return Ok(());
        }
        let listed = self.candidates.contains(candidate);
        let legal_unlisted = !self.narrowed
            && self.pools.contains(&candidate.pool)
            && host.is_assignable(candidate, request.identity.as_ref());
        if !(listed || legal_unlisted) {
            return Err(PolicyError::invalid(format!(
                "pick {}/{} is not a legal candidate",
                candidate.pool, candidate.address
            )));
        }
        self.picked = Some(candidate.clone());
        self.candidates = vec![candidate.clone()];
        self.narrowed = true;
        Ok(())
    }
}
