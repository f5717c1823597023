//! Admission of a module from its bytes alone, before it is compiled: it
//! must be a component, import nothing outside the allow-list, and fit the
//! runtime's caps. What passes is then compiled, linked as `Backing` says,
//! and instantiated under `PolicyNeeds`.

use crate::error::LoadError;
use crate::imports::{self, Backing};
use crate::limits::RuntimeLimits;
use crate::needs::PolicyNeeds;
use crate::scan::scan;

pub(crate) fn admit(
    policy: &str,
    bytes: &[u8],
    limits: &RuntimeLimits,
) -> Result<(Backing, PolicyNeeds), LoadError> {
    let scanned = scan(bytes).map_err(|message| LoadError::Compile {
        policy: policy.to_owned(),
        message,
    })?;
    let backing =
        imports::check(&scanned.imports).map_err(|import| LoadError::ForbiddenImport {
            policy: policy.to_owned(),
            import,
        })?;
    if let Some(message) = scanned.malformed {
        return Err(LoadError::Compile {
            policy: policy.to_owned(),
            message,
        });
    }
    let needs = PolicyNeeds::of(policy, &scanned, limits)?;
    Ok((backing, needs))
}

/// What admission found in a module: for tools that check a module before
/// shipping it (`berth-policy build`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleReport {
    /// Every top-level import, in the module's order.
    pub imports: Vec<String>,
    /// The imports linked as traps (`wasi:http`).
    pub trapped: Vec<String>,
    /// Bytes of linear memory an instance may grow to.
    pub memory_bytes: usize,
    /// Core module instantiations written in the binary (a lower bound).
    pub core_instances_at_least: u32,
}

impl crate::engine::Runtime {
    /// Checks `bytes` as a load would before compiling them: a component,
    /// importing only what the allow-list admits, within the caps.
    pub fn check_module(&self, policy: &str, bytes: &[u8]) -> Result<ModuleReport, LoadError> {
        let (_, needs) = admit(policy, bytes, &self.inner.limits)?;
        let scanned = scan(bytes).map_err(|message| LoadError::Compile {
            policy: policy.to_owned(),
            message,
        })?;
        let imports: Vec<String> = scanned.imports.iter().map(|i| i.name.clone()).collect();
        Ok(ModuleReport {
            trapped: imports
                .iter()
                .filter(|i| imports::is_trapped(i))
                .cloned()
                .collect(),
            imports,
            memory_bytes: needs.memory_bytes,
            core_instances_at_least: scanned.core_instances,
        })
    }
}
