//! Running a container of the Berth image without a container runtime:
//! the image's root filesystem (unpacked once) becomes the process's root
//! through `chroot`, in a private mount namespace where each volume is
//! bind-mounted at its mountPath, inside the node's network namespace
//! (the chart's pods are hostNetwork), with exactly the container's
//! environment. What a runtime would add and Berth does not need (cgroups,
//! seccomp, a PID namespace, capability dropping) is left out; the
//! container's root is read-only when its securityContext says so.
//!
//! The chain `ip netns exec` → `unshare` → `sh` → `env` → `chroot` →
//! the command only ever execs, so the PID we hold is the command's own:
//! SIGKILL reaches berthd itself, as a runtime's kill would.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::netns::Netns;

/// A host directory (or file) seen at `target` inside the container.
#[derive(Debug, Clone)]
pub struct Mount {
    pub source: PathBuf,
    pub target: String,
    pub read_only: bool,
}

/// A resolved container: what to run, with what, where.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    pub name: String,
    /// command + args, already combined with the image's entrypoint.
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub mounts: Vec<Mount>,
    pub read_only_root: bool,
}

/// The mount-and-chroot step. Arguments: root, env binary, read-only
/// flag, the mount count and its (source, target, mode) triples, then
/// `NAME=value... chroot root argv...` for `env -i`.
const LAUNCH: &str = r#"set -eu
root="$1"; env_bin="$2"; ro_root="$3"; shift 3
# The root as a mount of its own, so that it alone can be made read-only.
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
n="$1"; shift
while [ "$n" -gt 0 ]; do
    mount --bind "$1" "$root$2"
    if [ "$3" = ro ]; then mount -o remount,bind,ro "$root$2"; fi
    shift 3; n=$((n - 1))
done
if [ "$ro_root" = ro ]; then mount -o remount,bind,ro "$root"; fi
exec "$env_bin" -i "$@"
"#;

impl ContainerSpec {
    /// The command that runs this container from `rootfs` inside `netns`.
    /// Mount points are created in `rootfs` first (as a runtime creates
    /// them in the container's layer); the rootfs itself is never written
    /// otherwise.
    pub fn command(&self, rootfs: &Path, netns: &Netns) -> Result<Command> {
        for dir in ["proc", "dev"] {
            std::fs::create_dir_all(rootfs.join(dir))?;
        }
        for mount in &self.mounts {
            let target = rootfs.join(mount.target.trim_start_matches('/'));
            if mount.source.is_dir() {
                std::fs::create_dir_all(&target)
            } else {
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&target)
                    .map(|_| ())
            }
            .with_context(|| format!("creating mount point {}", target.display()))?;
        }
        let Some(program) = self.argv.first() else {
            bail!("container {} has no command", self.name);
        };
        if !program.starts_with('/') {
            // No PATH lookup inside an image that has no shell or PATH dirs.
            bail!(
                "container {}: command {program:?} is not an absolute path",
                self.name
            );
        }
        let mut cmd = netns.command(&tool("unshare")?);
        cmd.args(["--mount", "--propagation", "private", "--"])
            .arg(tool("sh")?)
            .args(["-c", LAUNCH, "launch"])
            .arg(rootfs)
            .arg(tool("env")?)
            .arg(if self.read_only_root { "ro" } else { "rw" })
            .arg(self.mounts.len().to_string());
        for mount in &self.mounts {
            cmd.arg(&mount.source)
                .arg(&mount.target)
                .arg(if mount.read_only { "ro" } else { "rw" });
        }
        // Every env word has an `=`, the chroot path has none: that is
        // where `env` stops reading assignments.
        cmd.args(self.env.iter().map(|(k, v)| format!("{k}={v}")));
        cmd.arg(tool("chroot")?).arg(rootfs).args(&self.argv);
        // The launcher itself needs a PATH for mount; the container gets
        // only its own environment through `env -i`.
        cmd.env_clear().env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        Ok(cmd)
    }
}

/// The absolute path of a host tool (the launcher runs before PATH is
/// trustworthy and inside namespaces).
fn tool(name: &str) -> Result<String> {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
        .map(|p| p.to_string_lossy().into_owned())
        .with_context(|| format!("{name} is not installed"))
}
