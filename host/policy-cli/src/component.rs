//! A policy named on the command line: a component file, or one of the
//! policies berthd ships (`builtin:<name>`), with its settings.

use anyhow::{Context, Result};
use berth_policy_runtime::PolicyConfig;
use std::path::Path;

/// How a built-in is named where a component file could be.
pub const BUILTIN_PREFIX: &str = "builtin:";

/// The policy `spec` names, as the host would load it, with `settings`
/// (`{}` when none are given).
pub fn config(spec: &str, settings: Option<serde_json::Value>) -> Result<PolicyConfig> {
    let settings = settings.unwrap_or_else(|| serde_json::json!({}));
    let config = match spec.strip_prefix(BUILTIN_PREFIX) {
        Some(builtin) => PolicyConfig::builtin(builtin, builtin),
        None => {
            let path = Path::new(spec);
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            PolicyConfig::bytes(name_of(path), bytes)
        }
    };
    Ok(config.with_settings(settings))
}

/// The name a component file's policy runs under: its file stem.
pub fn name_of(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "policy".into())
}

/// Settings read from a JSON file.
pub fn settings(path: &Path) -> Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

/// The chain `specs` name in order, the i-th with the i-th of `settings`
/// (the rest with `{}`).
pub fn chain(specs: &[String], settings: &[std::path::PathBuf]) -> Result<Vec<PolicyConfig>> {
    if settings.len() > specs.len() {
        anyhow::bail!(
            "{} settings files for {} policies: give at most one per policy, in order",
            settings.len(),
            specs.len()
        );
    }
    specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let settings = settings.get(i).map(|p| self::settings(p)).transpose()?;
            config(spec, settings)
        })
        .collect()
}
