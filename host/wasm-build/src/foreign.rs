//! Builds policies written in Python (componentize-py) and JavaScript
//! (componentize-js) into components, with the toolchains pinned in
//! `scripts/policy-toolchains` and installed by
//! `scripts/setup-policy-toolchains` (linked at `.tools/policy-toolchains`).
//!
//! A build takes 15-60 s, so [`cached_component`] keeps each result under
//! `<target>/foreign-components/`, named by a digest of everything that
//! goes into it (sources, WIT, toolchain pins): a second test run, or a
//! second test binary, reuses it.

use sha2::{Digest, Sha256};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A policy language other than Rust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// `source` is a directory holding `app.py` (the module `app`).
    Python,
    /// `source` is the ES module file exporting `policy`.
    JavaScript,
}

impl Language {
    fn tool(self) -> &'static str {
        match self {
            Self::Python => "python/bin/componentize-py",
            Self::JavaScript => "js/node_modules/.bin/componentize-js",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ForeignError {
    #[error(
        "{tool} is not installed at {path}; run scripts/setup-policy-toolchains \
         (or set BERTH_POLICY_TOOLCHAINS to its install directory)"
    )]
    ToolMissing { tool: &'static str, path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("could not run {tool}: {source}")]
    Spawn {
        tool: String,
        #[source]
        source: io::Error,
    },
    #[error("{tool} failed ({status}) building {source_path}:\n{output}")]
    Failed {
        tool: String,
        status: String,
        source_path: PathBuf,
        output: String,
    },
}

/// Where the toolchains are: `$BERTH_POLICY_TOOLCHAINS`, else
/// `<workspace>/.tools/policy-toolchains`.
pub fn toolchains_dir(workspace_root: &Path) -> PathBuf {
    match std::env::var_os("BERTH_POLICY_TOOLCHAINS") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root.join(".tools/policy-toolchains"),
    }
}

/// Runs the language's componentizer: `source` against the WIT in
/// `wit_dir` (world `policy-world`), writing the component to `out`.
pub fn componentize(
    language: Language,
    toolchains: &Path,
    wit_dir: &Path,
    source: &Path,
    out: &Path,
) -> Result<(), ForeignError> {
    let tool = toolchains.join(language.tool());
    if !tool.is_file() {
        return Err(ForeignError::ToolMissing {
            tool: language.tool(),
            path: tool,
        });
    }
    let mut cmd = Command::new(&tool);
    match language {
        Language::Python => {
            cmd.arg("--wit-path")
                .arg(wit_dir)
                .args(["--world", "policy-world", "componentize", "--python-path"])
                .arg(source)
                .arg("app")
                .arg("--output")
                .arg(out);
        }
        Language::JavaScript => {
            cmd.arg(source)
                .arg("--wit")
                .arg(wit_dir)
                .args(["--world-name", "policy-world", "--out"])
                .arg(out);
        }
    }
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|source| ForeignError::Spawn {
            tool: tool.display().to_string(),
            source,
        })?;
    if output.status.success() && out.is_file() {
        return Ok(());
    }
    Err(ForeignError::Failed {
        tool: tool.display().to_string(),
        status: output.status.to_string(),
        source_path: source.to_owned(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    })
}

/// The component built from `source` (relative to the workspace root),
/// built once per change of its inputs and kept in the target directory.
pub fn cached_component(
    workspace_root: &Path,
    language: Language,
    source: &Path,
) -> Result<PathBuf, ForeignError> {
    let source = workspace_root.join(source);
    let wit_dir = workspace_root.join("sdk/wit");
    let pins = workspace_root.join("scripts/policy-toolchains");
    let mut inputs = Vec::new();
    for root in [&source, &wit_dir, &pins] {
        files_under(root, &mut inputs)?;
    }
    inputs.sort();
    let mut digest = Sha256::new();
    for path in &inputs {
        let bytes = std::fs::read(path).map_err(|e| read_error(path, e))?;
        digest.update(
            path.strip_prefix(workspace_root)
                .unwrap_or(path)
                .as_os_str()
                .as_encoded_bytes(),
        );
        digest.update((bytes.len() as u64).to_le_bytes());
        digest.update(&bytes);
    }
    let key: String = digest.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let stem = source
        .file_stem()
        .map_or_else(|| "policy".into(), |s| s.to_string_lossy());
    let dir = crate::outer_target_dir(workspace_root).join("foreign-components");
    let out = dir.join(format!("{stem}-{key}.wasm"));
    if out.is_file() {
        return Ok(out);
    }
    std::fs::create_dir_all(&dir).map_err(|e| write_error(&dir, e))?;
    // Built beside its final name and renamed: a concurrent reader never
    // sees half a component.
    let part = dir.join(format!(".{stem}-{key}.{}.part.wasm", std::process::id()));
    let toolchains = toolchains_dir(workspace_root);
    let built = componentize(language, &toolchains, &wit_dir, &source, &part);
    if let Err(error) = built {
        let _ = std::fs::remove_file(&part);
        return Err(error);
    }
    std::fs::rename(&part, &out).map_err(|e| write_error(&out, e))?;
    Ok(out)
}

fn files_under(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), ForeignError> {
    let meta = std::fs::metadata(path).map_err(|e| read_error(path, e))?;
    if meta.is_file() {
        out.push(path.to_owned());
        return Ok(());
    }
    for entry in std::fs::read_dir(path).map_err(|e| read_error(path, e))? {
        let entry = entry.map_err(|e| read_error(path, e))?;
        let name = entry.file_name();
        // Python's bytecode caches change without the source changing.
        if name == "__pycache__" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        files_under(&entry.path(), out)?;
    }
    Ok(())
}

fn read_error(path: &Path, source: io::Error) -> ForeignError {
    ForeignError::Read {
        path: path.to_owned(),
        source,
    }
}

fn write_error(path: &Path, source: io::Error) -> ForeignError {
    ForeignError::Write {
        path: path.to_owned(),
        source,
    }
}
