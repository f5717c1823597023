//! The genuine helm binaries (installed by `scripts/setup-helm` into
//! `.tools/`), run against a test cluster's admin kubeconfig with their
//! config, cache and data dirs inside the cluster's temp dir.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::binaries::repo_root;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Helm {
    /// helm v3.18.0
    V3,
    /// helm v4.2.3
    V4,
}

impl Helm {
    pub fn path(self) -> PathBuf {
        repo_root().join(match self {
            Helm::V3 => ".tools/helm3/helm",
            Helm::V4 => ".tools/helm4/helm",
        })
    }

    /// Runs `helm args...` against `kubeconfig`; stdout, or an error with
    /// helm's output.
    pub fn run(self, kubeconfig: &Path, scratch: &Path, args: &[&str]) -> Result<String> {
        let path = self.path();
        if !path.is_file() {
            bail!("{} is missing: run scripts/setup-helm", path.display());
        }
        let out = Command::new(&path)
            .args(args)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .env("HELM_CONFIG_HOME", scratch.join("config"))
            .env("HELM_CACHE_HOME", scratch.join("cache"))
            .env("HELM_DATA_HOME", scratch.join("data"))
            .current_dir(repo_root())
            .output()
            .with_context(|| format!("running {}", path.display()))?;
        if !out.status.success() {
            bail!(
                "helm {args:?} failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}
