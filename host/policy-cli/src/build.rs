//! `berth-policy build`: the component of a project, checked before the
//! host compiles it, then loaded as berthd would load it.

use crate::project::{self, Language, JS_ENTRY};
use anyhow::{bail, Context, Result};
use berth_policy_runtime::{ModuleReport, PolicyConfig, Runtime, RuntimeLimits};
use berth_policy_sdk::Metadata;
use berth_wasm_build::foreign;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A built and checked component.
pub struct Built {
    pub name: String,
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub sha256: String,
    pub report: ModuleReport,
    pub metadata: Metadata,
    pub settings: serde_json::Value,
    /// Compiling and loading it in the host runtime.
    pub load_time: Duration,
}

/// The project's settings for `build` and the snippets: `settings.json`
/// beside the sources, else `{}`.
pub fn settings_of(dir: &Path) -> Result<serde_json::Value> {
    let path = dir.join("settings.json");
    if !path.is_file() {
        return Ok(serde_json::json!({}));
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

pub fn build(dir: &Path) -> Result<Built> {
    let name = project::name_of(dir)?;
    let path = component(dir, &name)?;
    check(&name, &path, settings_of(dir)?)
}

/// Checks and loads the component at `path` as `name`.
pub fn check(name: &str, path: &Path, settings: serde_json::Value) -> Result<Built> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let runtime = Runtime::new(RuntimeLimits::default())?;
    // Before the (slow) compile: the imports and the caps.
    let report = runtime
        .check_module(name, &bytes)
        .context("the host would refuse this component")?;
    let started = Instant::now();
    let config = PolicyConfig::bytes(name, bytes.clone()).with_settings(settings.clone());
    let chain = runtime
        .load_chain(&[config])
        .context("the host refused this component")?;
    let load_time = started.elapsed();
    let metadata = chain.policies()[0].metadata().clone();
    Ok(Built {
        name: name.to_owned(),
        path: path.to_owned(),
        sha256: hex::encode(Sha256::digest(&bytes)),
        bytes,
        report,
        metadata,
        settings,
        load_time,
    })
}

/// The project's component as `build` last wrote it, built again only
/// when a source is newer: Python and JavaScript builds are not
/// byte-reproducible, so rebuilding on every `test` would test a module
/// whose sha256 differs from the one `build` printed for the config.
pub fn current_component(dir: &Path, name: &str) -> Result<PathBuf> {
    let built = dir.join("build").join(format!("{name}.wasm"));
    let built_at = std::fs::metadata(&built).and_then(|m| m.modified());
    match built_at {
        Ok(at) if !newer_source(dir, at)? => Ok(built),
        _ => component(dir, name),
    }
}

/// Directories that hold outputs, fetched packages or fixtures, not the
/// policy's sources.
const NOT_SOURCES: &[&str] = &[
    "build",
    "target",
    "node_modules",
    "fixtures",
    ".venv",
    "__pycache__",
    ".git",
];

fn newer_source(dir: &Path, than: std::time::SystemTime) -> Result<bool> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            let skipped = NOT_SOURCES.iter().any(|n| entry.file_name() == *n);
            if !skipped && newer_source(&path, than)? {
                return Ok(true);
            }
        } else if entry.metadata()?.modified()? > than {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Builds the project in `dir` and returns its component's path:
/// `build/<name>.wasm` whatever the language, so the commands after
/// `build` (test, bench, run, the config snippets) read the same path.
pub fn component(dir: &Path, name: &str) -> Result<PathBuf> {
    let out_dir = dir.join("build");
    match project::detect(dir)? {
        Language::Rust => {
            let built = cargo_build(dir)?;
            std::fs::create_dir_all(&out_dir)?;
            let out = out_dir.join(format!("{name}.wasm"));
            std::fs::copy(&built, &out)
                .with_context(|| format!("copying {} to {}", built.display(), out.display()))?;
            Ok(out)
        }
        Language::Python => componentize(foreign::Language::Python, dir, dir, &out_dir, name),
        Language::Js => componentize(
            foreign::Language::JavaScript,
            dir,
            &dir.join(JS_ENTRY),
            &out_dir,
            name,
        ),
    }
}

fn componentize(
    language: foreign::Language,
    dir: &Path,
    source: &Path,
    out_dir: &Path,
    name: &str,
) -> Result<PathBuf> {
    std::fs::create_dir_all(out_dir)?;
    let out = out_dir.join(format!("{name}.wasm"));
    foreign::componentize(
        language,
        &project::toolchains_dir(),
        &dir.join("wit"),
        source,
        &out,
    )?;
    Ok(out)
}

fn cargo_build(dir: &Path) -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = dir.join("Cargo.toml");
    let status = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "--target",
            berth_wasm_build::TARGET,
            "--manifest-path",
        ])
        .arg(&manifest)
        // The project's own target directory and flags, not those of
        // whatever cargo invoked this tool.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("cargo build of {} failed ({status})", manifest.display());
    }
    let output = Command::new(&cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(&manifest)
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .context("running cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let meta: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let (Some(target), Some(package)) = (
        meta["target_directory"].as_str(),
        meta["packages"][0]["name"].as_str(),
    ) else {
        bail!("cargo metadata names no package or target directory");
    };
    let path = Path::new(target)
        .join(berth_wasm_build::TARGET)
        .join("release")
        .join(format!("{}.wasm", package.replace('-', "_")));
    if !path.is_file() {
        bail!(
            "cargo built no component at {} (is the crate a cdylib?)",
            path.display()
        );
    }
    Ok(path)
}
