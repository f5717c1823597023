//! The `berth-cluster` helper binary, as the library finds and runs it.
//!
//! Some work has to happen inside a node's network namespace (a node's
//! berthd runs there, as a hostNetwork pod runs in its node's network).
//! Entering a namespace from this process would need `setns`, which std
//! does not offer safely, so small helper commands run there through
//! `ip netns exec` instead: `netns-proxy` (the node's path to the API
//! server) and `http-get` (the chart's httpGet probes).

use std::path::PathBuf;

use anyhow::{bail, Result};

/// Overrides where the helper binary is looked for.
pub const HELPER_ENV: &str = "BERTH_CLUSTER_HELPER";
pub const HELPER_NAME: &str = "berth-cluster";

/// The helper binary: `$BERTH_CLUSTER_HELPER`, else next to the running
/// executable or one directory up (cargo puts integration test binaries
/// in `target/<profile>/deps/` and builds the package's binaries, this
/// one included, into `target/<profile>/` before running them).
pub fn helper_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(HELPER_ENV) {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe()?;
    let mut dirs = exe.ancestors().skip(1).take(2);
    if let Some(found) = dirs.find_map(|dir| {
        let candidate = dir.join(HELPER_NAME);
        candidate.is_file().then_some(candidate)
    }) {
        return Ok(found);
    }
    bail!(
        "cannot find the {HELPER_NAME} binary near {} (build it with `cargo build -p berth-cluster`, or set {HELPER_ENV})",
        exe.display()
    )
}
