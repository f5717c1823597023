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
    component: Option<&Path>,
    fixtures: &[std::path::PathBuf],
) -> Result<ExitCode> {
    let (name, path) = match component {
        Some(path) => (policy_name(path), path.to_owned()),
        None => {
            let name = project::name_of(dir)?;
            let path = build::component(dir, &name)?;
            (name, path)
        }
    };
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let default_settings = build::settings_of(dir)?;
    // One runtime for every fixture: it compiles the component once.
    let runtime = Runtime::new(RuntimeLimits::default())?;
    let (mut passed, mut failed) = (0u32, 0u32);
    for file in fixtures {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let fixture: Fixture = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a fixture", file.display()))?;
        let settings = fixture
            .settings
            .clone()
            .unwrap_or_else(|| default_settings.clone());
        let config = PolicyConfig::bytes(name.as_str(), bytes.clone()).with_settings(settings);
        let wrong = match runtime.load_chain(&[config]) {
            Ok(chain) => {
                let result = chain.run(fixture.request.clone(), &FixtureHost(&fixture));
                mismatches(&fixture, &name, &result)
            }
            Err(error) => vec![format!("the host refused the policy: {error}")],
        };
        let label = if fixture.description.is_empty() {
            String::new()
        } else {
            format!(" ({})", fixture.description)
        };
        if wrong.is_empty() {
            passed += 1;
            println!("ok   {}{label}", file.display());
        } else {
            failed += 1;
            println!("FAIL {}{label}", file.display());
            for line in wrong {
                println!("     {line}");
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

fn policy_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "policy".into())
}
