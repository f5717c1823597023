//! Compiling policies in a short-lived child process: `berthd serve` and
//! a reload run `berthd compile-policies --config <path>`, which loads the
//! chain once (so every module's compiled artefact lands in the policy
//! cache) and exits; the daemon then loads the artefacts. The compiler's
//! code and its temporaries never enter the long-lived process: with ten
//! policies compiled in place an idle daemon kept ~17 MiB more resident
//! (cranelift's pages of the binary and freed-but-held heap).
//!
//! The child runs only when a module would be compiled (none compiled yet
//! by this daemon, none in the cache): a restart or a reload that changes
//! no module loads what is there, once. It is an optimisation only: when
//! it fails (or the cache cannot be written) the daemon compiles in place,
//! with the same result.

use crate::config::DaemonConfig;
use anyhow::Context;
use berth_policy_runtime::Runtime;
use std::path::Path;
use std::process::{Command, Stdio};

/// The hidden verb the child runs.
pub const VERB: &str = "compile-policies";

/// `berthd compile-policies`: fill the policy cache for the config's chain.
pub fn run(config_path: &Path) -> anyhow::Result<()> {
    let config = DaemonConfig::load(config_path)?;
    let runtime = Runtime::with_artefact_cache(
        crate::policy_limits::runtime_limits(&config.limits),
        config.policy_cache_dir(),
    )
    .context("starting the policy runtime")?;
    runtime
        .load_chain(&config.policies)
        .context("compiling the policy chain")?;
    Ok(())
}

/// Runs the child for the config at `config_path` when loading `config`'s
/// chain into `runtime` would compile, and waits for it. Its failure is
/// logged, not returned: the caller's own load reports a bad config, and
/// compiles in place what the child did not.
pub fn in_child(runtime: &Runtime, config: &DaemonConfig, config_path: &Path) {
    if !runtime.would_compile(&config.policies) {
        return;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(error) => {
            tracing::warn!(%error, "cannot find berthd's own binary; compiling policies in place");
            return;
        }
    };
    // Only berthd has the verb; a process embedding the service (its unit
    // tests) compiles in place.
    if exe.file_name().and_then(|n| n.to_str()) != Some("berthd") {
        return;
    }
    let started = std::time::Instant::now();
    let status = Command::new(exe)
        .arg(VERB)
        .arg("--config")
        .arg(config_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        // Its errors are the daemon's to report (the load after it repeats
        // them); keep the log to one account.
        .stderr(Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => {
            tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "policies compiled in a child process"
            );
        }
        Ok(s) => {
            tracing::info!(status = %s, "compiling policies in a child failed; compiling in place")
        }
        Err(error) => {
            tracing::warn!(%error, "could not start the policy compiler child; compiling in place")
        }
    }
}
