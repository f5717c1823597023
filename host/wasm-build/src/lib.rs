//! Builds workspace crates into WebAssembly components from a build script.
//!
//! The outer cargo holds the lock on its own target directory, so the
//! nested `cargo build --target wasm32-wasip2` gets a directory of its own,
//! `<outer target dir>/wasm-components`. The nested environment is cleaned
//! of everything the outer build injected (RUSTFLAGS meant for the host,
//! clippy's wrapper, coverage flags, the outer target dir ...), and its
//! output goes to stderr so it never mixes with the `cargo:` directives a
//! build script prints on stdout.

// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod env;
pub mod foreign;

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const TARGET: &str = "wasm32-wasip2";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// `--release`: small, fast guests. What the daemon embeds.
    #[default]
    Release,
    /// The dev profile (unoptimised, large guests).
    Dev,
}

impl Profile {
    fn dir(self) -> &'static str {
        match self {
            Self::Release => "release",
            Self::Dev => "debug",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("could not run {what}: {source}")]
    Spawn {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "the Rust target {TARGET} is not installed (looked in {libdir}); \
         install the target: rustup target add {TARGET}"
    )]
    TargetMissing { libdir: String },
    #[error("cargo metadata failed: {0}")]
    Metadata(String),
    #[error("package {0:?} is not a member of the workspace")]
    UnknownPackage(String),
    #[error("nested `cargo build --target {TARGET}` of {packages} failed ({status}); its output is above")]
    Build { packages: String, status: String },
    #[error("the build of {package} produced no component at {path}")]
    Missing { package: String, path: PathBuf },
}

/// The outer build's target directory: `CARGO_TARGET_DIR` if set, else
/// `<workspace>/target`.
pub fn outer_target_dir(workspace_root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root.join(dir)
            }
        }
        _ => workspace_root.join("target"),
    }
}

/// Where the nested build puts its artifacts.
pub fn components_target_dir(workspace_root: &Path) -> PathBuf {
    outer_target_dir(workspace_root).join("wasm-components")
}

/// Builds `packages` (workspace members with a `cdylib` target) for
/// `wasm32-wasip2` and returns `(package name, component path)` in the
/// order given. Prints `cargo:rerun-if-changed` for `sdk/`, the workspace
/// manifest and lock file, and every package's directory.
pub fn build_components(
    workspace_root: &Path,
    packages: &[&str],
    profile: Profile,
) -> Result<Vec<(String, PathBuf)>, BuildError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    check_target_installed()?;
    for dir in package_dirs(&cargo, workspace_root, packages)? {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    for path in ["sdk", "Cargo.toml", "Cargo.lock"] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace_root.join(path).display()
        );
    }

    let target_dir = components_target_dir(workspace_root);
    let mut cmd = Command::new(&cargo);
    cmd.arg("build")
        .arg("--target")
        .arg(TARGET)
        .arg("--manifest-path")
        .arg(workspace_root.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    if profile == Profile::Release {
        cmd.arg("--release");
    }
    for package in packages {
        cmd.arg("-p").arg(package);
    }
    env::clean(&mut cmd);
    cmd.current_dir(workspace_root)
        .stdin(Stdio::null())
        .stdout(Stdio::from(io::stderr()))
        .stderr(Stdio::from(io::stderr()));
    let status = cmd.status().map_err(|source| BuildError::Spawn {
        what: "cargo".into(),
        source,
    })?;
    if !status.success() {
        return Err(BuildError::Build {
            packages: packages.join(", "),
            status: status.to_string(),
        });
    }

    let out_dir = target_dir.join(TARGET).join(profile.dir());
    packages
        .iter()
        .map(|package| {
            let path = out_dir.join(format!("{}.wasm", package.replace('-', "_")));
            if path.is_file() {
                Ok(((*package).to_owned(), path))
            } else {
                Err(BuildError::Missing {
                    package: (*package).to_owned(),
                    path,
                })
            }
        })
        .collect()
}

/// A missing target otherwise shows up as a wall of "can't find crate for
/// `core`" errors; say what to do instead.
fn check_target_installed() -> Result<(), BuildError> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .stderr(Stdio::null())
        .output()
        .map_err(|source| BuildError::Spawn {
            what: "rustc --print target-libdir".into(),
            source,
        })?;
    let libdir = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if output.status.success() && Path::new(&libdir).is_dir() {
        Ok(())
    } else {
        Err(BuildError::TargetMissing { libdir })
    }
}

/// The directories of `packages`, from `cargo metadata` (member paths are
/// not derivable from names).
fn package_dirs(
    cargo: &std::ffi::OsStr,
    workspace_root: &Path,
    packages: &[&str],
) -> Result<Vec<PathBuf>, BuildError> {
    let mut cmd = Command::new(cargo);
    cmd.args(["metadata", "--no-deps", "--format-version", "1"])
        .arg("--manifest-path")
        .arg(workspace_root.join("Cargo.toml"))
        .stderr(Stdio::from(io::stderr()));
    env::clean(&mut cmd);
    let output = cmd.output().map_err(|source| BuildError::Spawn {
        what: "cargo metadata".into(),
        source,
    })?;
    if !output.status.success() {
        return Err(BuildError::Metadata(output.status.to_string()));
    }
    let meta: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|err| BuildError::Metadata(err.to_string()))?;
    let members = meta["packages"].as_array().cloned().unwrap_or_default();
    packages
        .iter()
        .map(|name| {
            members
                .iter()
                .find(|p| p["name"].as_str() == Some(name))
                .and_then(|p| p["manifest_path"].as_str())
                .and_then(|m| Path::new(m).parent().map(Path::to_path_buf))
                .ok_or_else(|| BuildError::UnknownPackage((*name).to_owned()))
        })
        .collect()
}

/// The workspace root, for a build script of a crate two levels below it
/// (`host/<crate>`, `tests/<crate>`).
pub fn workspace_root_of_build_script() -> Result<PathBuf, String> {
    let manifest_dir = PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR").map_err(|e| format!("CARGO_MANIFEST_DIR: {e}"))?,
    );
    manifest_dir
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .ok_or_else(|| "crate is not two levels below the workspace root".to_owned())
}

/// Writes `$OUT_DIR/components.rs`, which `include_bytes!`s each component
/// as `COMPONENTS: &[(name, bytes)]` and lists the names as `NAMES`.
pub fn write_component_index(components: &[(&str, &Path)]) -> Result<(), String> {
    let mut index = String::from("pub(crate) static COMPONENTS: &[(&str, &[u8])] = &[\n");
    for (name, path) in components {
        let path = path
            .to_str()
            .ok_or_else(|| format!("component path {} is not UTF-8", path.display()))?;
        index.push_str(&format!("    ({name:?}, include_bytes!({path:?})),\n"));
    }
    index.push_str("];\n");
    let names: Vec<&str> = components.iter().map(|(name, _)| *name).collect();
    index.push_str(&format!("pub(crate) static NAMES: &[&str] = &{names:?};\n"));
    let out_dir = std::env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?;
    std::fs::write(Path::new(&out_dir).join("components.rs"), index)
        .map_err(|e| format!("writing the component index: {e}"))
}
