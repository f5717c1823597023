//! `berth-policy test`: each fixture through the real host runtime (the
//! runtime berthd runs, with its limits) and the host's chain semantics,
//! which validate every answer as the daemon does.

use crate::build;
use crate::fixture::{mismatches, Fixture, FixtureHost};
use crate::project;
use anyhow::{Context, Result};
use berth_core::chain::PolicyChain;
use berth_policy_runtime::{PolicyConfig, Runtime, RuntimeLimits};
use std::path::Path;
use std::process::ExitCode;

pub fn run(
    dir: &Path,
    component: Option<&str>,
    fixtures: &[std::path::PathBuf],
) -> Result<ExitCode> {
    // The policy under test, and the settings a fixture without its own
    // gets: the project's `settings.json`.
    let base = match component {
        Some(spec) => crate::component::config(spec, None)?,
        None => {
            let name = project::name_of(dir)?;
            let path = build::current_component(dir, &name)?;
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            PolicyConfig::bytes(name, bytes)
        }
    };
    let name = base.name.clone();
    let default_settings = build::settings_of(dir)?;
    // One runtime for every fixture: it compiles the component once.
    let runtime = Runtime::new(RuntimeLimits::default())?;
    let (mut passed, mut failed) = (0u32, 0u32);
    for file in fixtures {
        let all = crate::fixture::read(file)?;
        let several = all.len() > 1;
        for (i, fixture) in all.iter().enumerate() {
            let at = if several {
                format!("{}#{}", file.display(), i + 1)
            } else {
                file.display().to_string()
            };
            let wrong = check(&runtime, &base, &name, &default_settings, fixture);
            let label = if fixture.description.is_empty() {
                String::new()
            } else {
                format!(" ({})", fixture.description)
            };
            if wrong.is_empty() {
                passed += 1;
                println!("ok   {at}{label}");
            } else {
                failed += 1;
                println!("FAIL {at}{label}");
                for line in wrong {
                    println!("     {line}");
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// What the fixture expected and the chain did not do; empty when it passed.
fn check(
    runtime: &Runtime,
    base: &PolicyConfig,
    name: &str,
    default_settings: &serde_json::Value,
    fixture: &Fixture,
) -> Vec<String> {
    let settings = fixture
        .settings
        .clone()
        .unwrap_or_else(|| default_settings.clone());
    let config = base.clone().with_settings(settings);
    match runtime.load_chain(&[config]) {
        Ok(chain) => {
            let result = chain.run(fixture.request.clone(), &FixtureHost(fixture));
            mismatches(fixture, name, &result)
        }
        Err(error) => vec![format!("the host refused the policy: {error}")],
    }
}
