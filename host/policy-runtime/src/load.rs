//! Loading a chain: fetch each module, check its digest, compile it once,
//! refuse forbidden imports, link it once (`InstancePre`) as the contract
//! version it exports (`contract.rs`), then ask a fresh instance for its
//! metadata and to validate its settings. Any failure
//! refuses the whole chain, so a half-valid list never goes live.

use crate::chain::LoadedChain;
use crate::config::PolicyConfig;
use crate::contract::{speaks, PolicyPre};
use crate::engine::Runtime;
use crate::error::LoadError;
use crate::instance::PolicyInstance;
use crate::limits::COMPILED_CACHE_ENTRIES_MAX;
use crate::limits::{POLICY_NAME_BYTES_MAX, POLICY_SETTINGS_BYTES_MAX};
use crate::needs::PolicyNeeds;
use crate::policy::LoadedPolicy;
use crate::source::{check_digest, module_bytes};
use berth_core::limits::{CHAIN_POLICIES_MAX, REASON_BYTES_MAX};
use berth_policy_sdk::Metadata;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use wasmtime::component::Component;

/// Contract versions this host speaks: `0.2.x`, and `0.1.x` components
/// unchanged (`contract.rs`).
pub const CONTRACT_COMPATIBLE: &str = "0.2.x, 0.1.x";

impl Runtime {
    /// Loads `configs`, in order, into a chain ready to run.
    pub fn load_chain(&self, configs: &[PolicyConfig]) -> Result<LoadedChain, LoadError> {
        if configs.len() > CHAIN_POLICIES_MAX {
            return Err(LoadError::TooManyPolicies {
                count: configs.len(),
                max: CHAIN_POLICIES_MAX,
            });
        }
        let mut seen = HashSet::new();
        let mut policies = Vec::with_capacity(configs.len());
        for config in configs {
            check_name(&config.name)?;
            if !seen.insert(config.name.as_str()) {
                return Err(LoadError::DuplicateName {
                    policy: config.name.clone(),
                });
            }
            policies.push(self.load_policy(config)?);
        }
        Ok(LoadedChain::new(self.clone(), policies))
    }

    /// Whether loading `configs` would compile a module: one this runtime
    /// has not compiled yet and its artefact cache does not hold. Reads
    /// and hashes each module, compiles nothing; a module that cannot be
    /// read counts as not compiling (the load reports it).
    pub fn would_compile(&self, configs: &[PolicyConfig]) -> bool {
        configs.iter().any(|config| {
            let Ok(bytes) = module_bytes(config) else {
                return false;
            };
            let digest = hex::encode(Sha256::digest(&bytes));
            if lock(&self.inner.compiled).contains_key(&digest) {
                return false;
            }
            self.inner
                .artefacts
                .as_ref()
                .is_none_or(|cache| !cache.has(&self.inner.engine, &digest))
        })
    }

    fn load_policy(&self, config: &PolicyConfig) -> Result<LoadedPolicy, LoadError> {
        let policy = config.name.clone();
        let bytes = module_bytes(config)?;
        let digest = hex::encode(Sha256::digest(&bytes));
        if let Some(expected) = &config.sha256 {
            check_digest(&policy, expected, &digest)?;
        }
        // Refused from its bytes before the (slow) compile.
        let (backing, needs) = crate::admit::admit(&policy, &bytes, &self.inner.limits)?;
        let component = self.compile(&policy, &digest, &bytes)?;
        let link = |e: wasmtime::Error| LoadError::Link {
            policy: policy.clone(),
            message: format!("{e:#}"),
        };
        let pre = crate::link::instantiate_pre(
            &self.inner.linker,
            &self.inner.engine,
            &component,
            backing,
        )
        .map_err(link)?;
        let pre = PolicyPre::new(pre).map_err(link)?;

        let settings =
            serde_json::to_string(&config.settings).map_err(|e| LoadError::InvalidSettings {
                policy: policy.clone(),
                message: e.to_string(),
            })?;
        if settings.len() > POLICY_SETTINGS_BYTES_MAX {
            return Err(LoadError::SettingsTooLarge {
                policy,
                size: settings.len(),
                max: POLICY_SETTINGS_BYTES_MAX,
            });
        }
        let name: Arc<str> = Arc::from(policy.as_str());
        let metadata = self.check_instance(&name, &pre, needs, &settings)?;
        Ok(LoadedPolicy {
            needs,
            counters: self.inner.metrics.policy(&policy),
            name,
            failure_policy: config.failure_policy,
            settings,
            pre,
            metadata,
            sha256: digest,
        })
    }

    /// Compiles `bytes`, or reuses the component compiled from the same
    /// digest by an earlier load.
    fn compile(&self, policy: &str, digest: &str, bytes: &[u8]) -> Result<Component, LoadError> {
        let cache = &self.inner.compiled;
        if let Some(component) = lock(cache).get(digest) {
            return Ok(component.clone());
        }
        // Compiled outside the lock: loads of other modules need not wait.
        let engine = &self.inner.engine;
        let compiled = match &self.inner.artefacts {
            Some(artefacts) => artefacts
                .component(engine, digest, bytes)
                .map(|(c, outcome)| {
                    tracing::debug!(target: crate::LOG_TARGET, policy, ?outcome, "policy compiled");
                    c
                }),
            None => Component::new(engine, bytes),
        };
        let component = compiled.map_err(|e| LoadError::Compile {
            policy: policy.to_owned(),
            message: format!("{e:#}"),
        })?;
        let mut cache = lock(cache);
        // Old chains' modules would pile up across many reloads; starting
        // over now and then costs one compile per module.
        if cache.len() >= COMPILED_CACHE_ENTRIES_MAX {
            cache.clear();
        }
        cache.insert(digest.to_owned(), component.clone());
        Ok(component)
    }

    /// Metadata and settings, asked of a throwaway instance under the same
    /// limits as a real run.
    fn check_instance(
        &self,
        name: &Arc<str>,
        pre: &PolicyPre,
        needs: PolicyNeeds,
        settings: &str,
    ) -> Result<Metadata, LoadError> {
        let policy = || name.to_string();
        let call = |call: &'static str| {
            move |error| LoadError::Call {
                policy: policy(),
                call,
                error,
            }
        };
        let mut instance = PolicyInstance::new(&self.inner, pre, needs, name, 0, 0)
            .map_err(call("instantiate"))?;
        let metadata = instance.metadata().map_err(call("metadata"))?;
        if !speaks(&metadata.contract) {
            return Err(LoadError::IncompatibleContract {
                policy: policy(),
                contract: metadata.contract,
                expected: CONTRACT_COMPATIBLE.to_owned(),
            });
        }
        match instance
            .validate_settings(settings)
            .map_err(call("validate-settings"))?
        {
            Ok(()) => Ok(metadata),
            Err(message) => Err(LoadError::InvalidSettings {
                policy: policy(),
                message: berth_core::chain::truncate_utf8(message, REASON_BYTES_MAX),
            }),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the map half-updated.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn check_name(name: &str) -> Result<(), LoadError> {
    let reason = if name.is_empty() || name.len() > POLICY_NAME_BYTES_MAX {
        format!("must be 1 to {POLICY_NAME_BYTES_MAX} bytes")
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        "may only contain ASCII letters, digits, '-', '_' and '.'".to_owned()
    } else {
        return Ok(());
    };
    Err(LoadError::InvalidName {
        policy: name.to_owned(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn would_compile_until_compiled_here_or_cached() {
        let dir = tempfile::tempdir().expect("dir");
        let limits = crate::RuntimeLimits::default;
        let chain = [PolicyConfig::builtin("sticky", "sticky-statefulset")];
        let runtime =
            Runtime::with_artefact_cache(limits(), dir.path().join("cache")).expect("runtime");
        assert!(
            runtime.would_compile(&chain),
            "nothing compiled, nothing cached"
        );
        runtime.load_chain(&chain).expect("loads");
        assert!(!runtime.would_compile(&chain), "compiled by this runtime");
        let restarted =
            Runtime::with_artefact_cache(limits(), dir.path().join("cache")).expect("runtime");
        assert!(!restarted.would_compile(&chain), "in the artefact cache");
        let uncached = Runtime::new(limits()).expect("runtime");
        assert!(uncached.would_compile(&chain), "no cache, nothing compiled");
        let more = [
            chain[0].clone(),
            PolicyConfig::builtin("quota", "namespace-quota"),
        ];
        assert!(restarted.would_compile(&more), "one module not cached");
    }

    #[test]
    fn names() {
        assert!(check_name("sticky-statefulset.v2_a").is_ok());
        for bad in ["", "a b", "a/b", "é", &"x".repeat(64)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
