//! What a migration plan is made of: what it reads ([`Inputs`]), the
//! objects it would write ([`Step`]), what does not carry over ([`Note`])
//! and what stops it ([`Conflict`]). Shared by the planners of each kind
//! ([`super::plan`], [`super::endpoints`], [`super::holders`],
//! [`super::reserved`]), so none of them needs the planner that calls it.

use super::spider::{SpiderEndpoint, SpiderIPPool, SpiderReservedIP};
use crate::read::Held;
use berth_core::pool::Pool;
use berth_core::record::AddressRecord;
use berth_kube::{BerthPool, BerthReservedIP};
use berth_policy_sdk::{Owner, StatefulSet};
use serde::Serialize;
use std::collections::BTreeMap;
use sticky_statefulset::Settings;

/// What the cluster says about the pod of a SpiderEndpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workload {
    /// A pod with the endpoint's name and UID exists and has not finished.
    pub running: bool,
    pub owner: Option<Owner>,
    pub stateful_set: Option<StatefulSet>,
}

/// Everything the plan reads.
pub struct Inputs<'a> {
    pub spider_pools: &'a [SpiderIPPool],
    pub reserved: &'a [SpiderReservedIP],
    pub berth_reserved: &'a [BerthReservedIP],
    pub endpoints: &'a [SpiderEndpoint],
    /// By (namespace, pod name).
    pub workloads: &'a BTreeMap<(String, String), Workload>,
    pub berth_pools: &'a [BerthPool],
    pub held: &'a [Held],
    /// The default policy's settings in Berth's config; `None` when the
    /// chain has no sticky-statefulset (no identities are stated).
    pub sticky: Option<&'a Settings>,
    pub now: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    /// Already in Berth as the migration would write it.
    Unchanged,
    /// A BerthPool of that name exists with another spec: left as it is.
    Kept,
}

/// One object of the plan.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub action: Action,
    pub kind: &'static str,
    pub name: String,
    pub detail: String,
    #[serde(skip)]
    pub write: Option<Write>,
}

/// What a `create` step writes.
#[derive(Debug, Clone)]
pub enum Write {
    Reserved(Box<BerthReservedIP>),
    Pool(Box<BerthPool>),
    Address(Box<AddressRecord>),
}

/// Something that does not carry over, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Note {
    pub object: String,
    pub reason: String,
}

/// Something that stops the migration before any write.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    pub address: Option<String>,
    pub object: String,
    pub problem: String,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub steps: Vec<Step>,
    pub not_migrated: Vec<Note>,
    pub conflicts: Vec<Conflict>,
}

impl Plan {
    pub fn note(&mut self, object: impl Into<String>, reason: impl Into<String>) {
        self.not_migrated.push(Note {
            object: object.into(),
            reason: reason.into(),
        });
    }

    pub fn conflict(
        &mut self,
        address: Option<String>,
        object: impl Into<String>,
        problem: impl Into<String>,
    ) {
        self.conflicts.push(Conflict {
            address,
            object: object.into(),
            problem: problem.into(),
        });
    }

    /// The steps that write something.
    pub fn creates(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.action == Action::Create)
    }
}

/// The pools addresses may be migrated into: name → the pool as it will
/// be (the existing BerthPool when one is kept).
pub type Targets = BTreeMap<String, Pool>;

pub fn step(
    action: Action,
    kind: &'static str,
    name: &str,
    detail: String,
    write: Option<Write>,
) -> Step {
    Step {
        action,
        kind,
        name: name.to_owned(),
        detail,
        write,
    }
}
