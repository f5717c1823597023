//! One loaded policy: compiled and linked once, with its settings, limits
//! and counters; what a chain (`chain.rs`) is a list of and what each run's
//! step (`step.rs`) instantiates.

use crate::contract::PolicyPre;
use crate::metrics::PolicyCounters;
use berth_core::chain::FailurePolicy;
use berth_policy_sdk::Metadata;
use std::sync::Arc;

/// One policy, compiled and linked once, ready to instantiate per run.
pub struct LoadedPolicy {
    pub(crate) name: Arc<str>,
    pub(crate) failure_policy: FailurePolicy,
    /// The settings as the JSON string every call receives.
    pub(crate) settings: String,
    pub(crate) pre: PolicyPre,
    /// Store limits sized from the component (`needs.rs`).
    pub(crate) needs: crate::needs::PolicyNeeds,
    pub(crate) metadata: Metadata,
    pub(crate) sha256: String,
    pub(crate) counters: Arc<PolicyCounters>,
}

impl LoadedPolicy {
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn failure_policy(&self) -> FailurePolicy {
        self.failure_policy
    }
    /// What the policy says about itself (name, version, contract).
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }
    /// sha256 of the module, lowercase hex (what a config would pin).
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
    pub fn settings_json(&self) -> &str {
        &self.settings
    }
}

impl std::fmt::Debug for LoadedPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPolicy")
            .field("name", &self.name)
            .field("failure_policy", &self.failure_policy)
            .field("metadata", &self.metadata)
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}
