//! Where the control plane's binaries are: the version-keyed cache that
//! `scripts/setup-control-plane` fills. Finding them never builds them (a
//! cold build takes many minutes): a missing or stale build is an error that
//! says which command to run, so tests fail instead of silently skipping.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Overrides the lookup with a directory holding the four binaries.
pub const BIN_DIR_ENV: &str = "BERTH_CONTROL_PLANE_BIN";

/// The four executables of the control plane.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub dir: PathBuf,
    pub etcd: PathBuf,
    pub kube_apiserver: PathBuf,
    pub kube_controller_manager: PathBuf,
    pub kubectl: PathBuf,
}

impl Binaries {
    /// Asks `scripts/setup-control-plane --check` (fast: it compares a stamp
    /// and never runs go) for the bin dir, unless `BERTH_CONTROL_PLANE_BIN`
    /// names one.
    pub fn locate() -> Result<Self> {
        let dir = match std::env::var_os(BIN_DIR_ENV) {
            Some(dir) => PathBuf::from(dir),
            None => Self::dir_from_setup_script()?,
        };
        Self::in_dir(&dir)
    }

    /// The binaries in `dir`, each checked to exist.
    pub fn in_dir(dir: &Path) -> Result<Self> {
        let bin = |name: &str| -> Result<PathBuf> {
            let path = dir.join(name);
            if !path.is_file() {
                bail!(
                    "{} is missing: build the control plane with scripts/setup-control-plane",
                    path.display()
                );
            }
            Ok(path)
        };
        Ok(Binaries {
            etcd: bin("etcd")?,
            kube_apiserver: bin("kube-apiserver")?,
            kube_controller_manager: bin("kube-controller-manager")?,
            kubectl: bin("kubectl")?,
            dir: dir.to_path_buf(),
        })
    }

    fn dir_from_setup_script() -> Result<PathBuf> {
        let script = repo_root().join("scripts/setup-control-plane");
        let out = Command::new(&script)
            .arg("--check")
            .output()
            .with_context(|| format!("running {}", script.display()))?;
        if !out.status.success() {
            // The script's own message names the missing dir and the fix.
            bail!(
                "{} --check failed: {}",
                script.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let stdout = String::from_utf8(out.stdout).context("setup-control-plane output")?;
        match stdout.lines().last() {
            Some(line) if !line.trim().is_empty() => Ok(PathBuf::from(line.trim())),
            _ => bail!("{} --check printed no bin dir", script.display()),
        }
    }
}

/// The repository this crate was built from (tests/cluster is two levels down).
pub fn repo_root() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // Canonical, so that paths handed to cargo and scripts (the image's
    // target dir) are spelled the same on every run.
    path.canonicalize().unwrap_or(path)
}
