//! The chart's CustomResourceDefinitions on a bare control plane, for tests
//! of what the API server itself enforces (CEL rules, finalizers) that need
//! no node, no image and no helm.

use std::time::Duration;

use anyhow::{bail, Result};

use crate::binaries::repo_root;
use crate::control_plane::ControlPlane;

const ESTABLISHED_TIMEOUT: Duration = Duration::from_secs(60);

impl ControlPlane {
    /// Creates every CRD of `charts/berth/crds/` as the chart ships it and
    /// waits until the API server serves them.
    pub fn install_chart_crds(&self) -> Result<()> {
        let dir = repo_root().join("charts/berth/crds");
        self.kubectl_ok(&["create", "-f", &dir.to_string_lossy()])?;
        let timeout = format!("--timeout={}s", ESTABLISHED_TIMEOUT.as_secs());
        self.kubectl_ok(&[
            "wait",
            "--for=condition=Established",
            "-f",
            &dir.to_string_lossy(),
            &timeout,
        ])?;
        Ok(())
    }

    /// `kubectl args...` with the admin kubeconfig, run in the repository
    /// root (relative paths are the repository's): stdout, or an error
    /// with stderr.
    pub fn kubectl_ok(&self, args: &[&str]) -> Result<String> {
        let out = self
            .kubectl()
            .args(args)
            .current_dir(repo_root())
            .output()?;
        if !out.status.success() {
            bail!(
                "kubectl {args:?} failed: {}{}",
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}
