//! The semver-aware side of loading: which `berth:policy` a component
//! exports, and calling it either way.
//!
//! 0.2.0 only added the `query` interface: every type and function of
//! 0.1.0 kept its shape. So a 0.1 component runs on the 0.2 host as it is:
//! its `host.log` import is linked under both names (`log.rs`), its types
//! need no linking, and its exports are called through the same Rust types
//! the 0.2 bindings generated — wasmtime checks that the shapes match when
//! a function is looked up, so a component whose 0.1 exports do not fit is
//! refused, never misread. A 0.2 component goes through the generated
//! bindings; a 0.1 one through [`Legacy`], which looks its functions up by
//! hand. It cannot ask queries (0.1 has no such import), so it decides on
//! the sampled candidates as it always did. Its metadata must name a
//! contract this host speaks ([`speaks`]).

use crate::bindings::{wit, PolicyWorld, PolicyWorldPre, WitMetadata};
use crate::sandbox::PolicyState;
use wasmtime::component::{ComponentExportIndex, Func, InstancePre};
use wasmtime::Store;

/// Export names of the policy interface, newest first. wasmtime matches
/// semver-compatible names, so `@0.2.0` finds a component's `@0.2.3`.
const CURRENT: &str = "berth:policy/policy@0.2.0";
const LEGACY: &str = "berth:policy/policy@0.1.0";

/// Whether a component's metadata names a contract this host speaks:
/// `0.1.<patch>` or `0.2.<patch>`. The exports, not this string, decide
/// how the component is called: a Python or JavaScript policy generated
/// from today's WIT may still say "0.1.0" in a hand-written metadata, and
/// runs the same.
pub(crate) fn speaks(contract: &str) -> bool {
    ["0.1.", "0.2."].iter().any(|minor| {
        contract
            .strip_prefix(minor)
            .is_some_and(|patch| !patch.is_empty() && patch.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// A linked component, ready to instantiate per evaluation.
pub(crate) enum PolicyPre {
    Current(PolicyWorldPre<PolicyState>),
    Legacy(LegacyPre),
}

pub(crate) struct LegacyPre {
    pre: InstancePre<PolicyState>,
    metadata: ComponentExportIndex,
    validate_settings: ComponentExportIndex,
    identify: ComponentExportIndex,
    evaluate: ComponentExportIndex,
}

impl PolicyPre {
    /// Finds the contract `pre`'s component exports.
    pub fn new(pre: InstancePre<PolicyState>) -> wasmtime::Result<Self> {
        let component = pre.component();
        if component.get_export_index(None, CURRENT).is_some() {
            return Ok(Self::Current(PolicyWorldPre::new(pre)?));
        }
        let Some(instance) = component.get_export_index(None, LEGACY) else {
            wasmtime::bail!("the component exports neither {CURRENT} nor {LEGACY}");
        };
        let lookup = |name: &str| {
            component
                .get_export_index(Some(&instance), name)
                .ok_or_else(|| wasmtime::format_err!("{LEGACY} has no function {name:?}"))
        };
        let legacy = LegacyPre {
            metadata: lookup("metadata")?,
            validate_settings: lookup("validate-settings")?,
            identify: lookup("identify")?,
            evaluate: lookup("evaluate")?,
            pre,
        };
        Ok(Self::Legacy(legacy))
    }

    pub fn instantiate(&self, store: &mut Store<PolicyState>) -> wasmtime::Result<PolicyExports> {
        match self {
            Self::Current(pre) => Ok(PolicyExports::Current(pre.instantiate(store)?)),
            Self::Legacy(pre) => {
                let instance = pre.pre.instantiate(&mut *store)?;
                let mut func = |index: &ComponentExportIndex| {
                    instance
                        .get_func(&mut *store, index)
                        .ok_or_else(|| wasmtime::format_err!("{LEGACY}: an export is no function"))
                };
                Ok(PolicyExports::Legacy(Legacy {
                    metadata: func(&pre.metadata)?,
                    validate_settings: func(&pre.validate_settings)?,
                    identify: func(&pre.identify)?,
                    evaluate: func(&pre.evaluate)?,
                }))
            }
        }
    }
}

/// The exports of one instance.
pub(crate) enum PolicyExports {
    Current(PolicyWorld),
    Legacy(Legacy),
}

/// A 0.1 instance's functions. Typed at each call (a type check per call,
/// a small price for not keeping a second copy of the contract).
pub(crate) struct Legacy {
    metadata: Func,
    validate_settings: Func,
    identify: Func,
    evaluate: Func,
}

type S<'a> = &'a mut Store<PolicyState>;

impl PolicyExports {
    pub fn metadata(&self, store: S<'_>) -> wasmtime::Result<WitMetadata> {
        match self {
            Self::Current(w) => w.berth_policy_policy().call_metadata(store),
            Self::Legacy(l) => {
                let f = l.metadata.typed::<(), (WitMetadata,)>(&*store)?;
                Ok(f.call(store, ())?.0)
            }
        }
    }

    pub fn validate_settings(
        &self,
        store: S<'_>,
        settings: &str,
    ) -> wasmtime::Result<Result<(), String>> {
        match self {
            Self::Current(w) => w
                .berth_policy_policy()
                .call_validate_settings(store, settings),
            Self::Legacy(l) => {
                let f = l
                    .validate_settings
                    .typed::<(&str,), (Result<(), String>,)>(&*store)?;
                Ok(f.call(store, (settings,))?.0)
            }
        }
    }

    pub fn identify(
        &self,
        store: S<'_>,
        settings: &str,
        request: wit::Request<'_>,
    ) -> wasmtime::Result<Option<wit::IdentityResult>> {
        match self {
            Self::Current(w) => w
                .berth_policy_policy()
                .call_identify(store, settings, request),
            Self::Legacy(l) => {
                let f = l
                    .identify
                    .typed::<(&str, wit::Request<'_>), (Option<wit::IdentityResult>,)>(&*store)?;
                Ok(f.call(store, (settings, request))?.0)
            }
        }
    }

    pub fn evaluate(
        &self,
        store: S<'_>,
        settings: &str,
        request: wit::Request<'_>,
    ) -> wasmtime::Result<wit::Decision> {
        match self {
            Self::Current(w) => w
                .berth_policy_policy()
                .call_evaluate(store, settings, request),
            Self::Legacy(l) => {
                let f = l
                    .evaluate
                    .typed::<(&str, wit::Request<'_>), (wit::Decision,)>(&*store)?;
                Ok(f.call(store, (settings, request))?.0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_must_name_a_contract_this_host_speaks() {
        for ok in ["0.1.0", "0.1.7", "0.1.12", "0.2.0", "0.2.3"] {
            assert!(speaks(ok), "{ok}");
        }
        for bad in [
            "0.3.0", "0.1", "0.2.", "0.2.x", "1.2.0", "", "0.20.0", "0.10.0",
        ] {
            assert!(!speaks(bad), "{bad}");
        }
    }
}
