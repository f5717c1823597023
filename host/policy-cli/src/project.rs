//! What a policy project is: its language, found from its files, and where
//! the SDK, the WIT contract and the Python/JavaScript toolchains live.

use anyhow::{bail, Result};
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Language {
    Rust,
    Python,
    Js,
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rust => "rust",
            Self::Python => "python",
            Self::Js => "js",
        })
    }
}

/// The file that marks a project of each language.
pub const PYTHON_ENTRY: &str = "app.py";
pub const JS_ENTRY: &str = "policy.js";

/// The project's language, from the files in `dir`.
pub fn detect(dir: &Path) -> Result<Language> {
    let found: Vec<Language> = [
        (Language::Rust, "Cargo.toml"),
        (Language::Python, PYTHON_ENTRY),
        (Language::Js, JS_ENTRY),
    ]
    .into_iter()
    .filter(|(_, file)| dir.join(file).is_file())
    .map(|(lang, _)| lang)
    .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => bail!(
            "{} is not a policy project: no Cargo.toml, {PYTHON_ENTRY} or {JS_ENTRY} \
             (create one with `berth-policy new <name> --lang rust|python|js`)",
            dir.display()
        ),
        _ => bail!(
            "{} holds more than one of Cargo.toml, {PYTHON_ENTRY} and {JS_ENTRY}",
            dir.display()
        ),
    }
}

/// The repository this tool was built from (`host/policy-cli` is two
/// levels below its root).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The SDK a new Rust project depends on by default.
pub fn default_sdk_dir() -> PathBuf {
    let sdk = repo_root().join("sdk");
    sdk.canonicalize().unwrap_or(sdk)
}

/// The contract's WIT, copied into Python and JavaScript projects.
pub const POLICY_WIT: &str = include_str!("../../../sdk/wit/policy.wit");

/// The pinned componentizers: `$BERTH_POLICY_TOOLCHAINS`, else the
/// repository's `.tools/policy-toolchains` (scripts/setup-policy-toolchains).
pub fn toolchains_dir() -> PathBuf {
    berth_wasm_build::foreign::toolchains_dir(&repo_root())
}

/// The policy's name: the directory's name.
pub fn name_of(dir: &Path) -> Result<String> {
    let dir = dir.canonicalize()?;
    match dir.file_name().and_then(|n| n.to_str()) {
        Some(name) => Ok(name.to_owned()),
        None => bail!("{} has no usable directory name", dir.display()),
    }
}
