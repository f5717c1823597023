//! `berthd install-cni`: copies the `berth` IPAM plugin into the node's CNI
//! bin directory. It replaces the chart's `sh -c 'cp; chmod; mv'` init
//! container, so the image needs no shell: the copy is staged next to the
//! destination, made durable and renamed over it, so a container runtime
//! executing the plugin at that moment runs the old or the new binary,
//! never a half-written one.

use crate::atomic_file::Staged;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The plugin's file name in the CNI bin dir: CNI configs name the IPAM
/// plugin `"type": "berth"`, and the runtime looks for exactly that file.
pub const PLUGIN_NAME: &str = "berth";
const STAGING_NAME: &str = ".berth.new";

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("cannot read the plugin {path}: {source}")]
    Source { path: PathBuf, source: io::Error },
    #[error("the plugin {0} is not a regular file")]
    SourceNotAFile(PathBuf),
    #[error("{0} is not a directory (the CNI bin dir must exist)")]
    DestNotADir(PathBuf),
    #[error("cannot install into {dir}: {source}")]
    Dest { dir: PathBuf, source: io::Error },
}

/// What was installed, for the init container's log.
#[derive(Debug)]
pub struct Installed {
    pub dest: PathBuf,
    pub bytes: u64,
    pub sha256: String,
}

/// Installs `source` as `<dest_dir>/berth`, mode 0755.
pub fn install(source: &Path, dest_dir: &Path) -> Result<Installed, InstallError> {
    let read_err = |e| InstallError::Source {
        path: source.to_owned(),
        source: e,
    };
    let write_err = |e| InstallError::Dest {
        dir: dest_dir.to_owned(),
        source: e,
    };
    let mut input = File::open(source).map_err(read_err)?;
    if !input.metadata().map_err(read_err)?.is_file() {
        return Err(InstallError::SourceNotAFile(source.to_owned()));
    }
    // Checked here rather than created: the chart mounts the node's own
    // directory, and a typo in a path should fail, not install elsewhere.
    if !dest_dir.is_dir() {
        return Err(InstallError::DestNotADir(dest_dir.to_owned()));
    }
    let mut staged = Staged::create(dest_dir, STAGING_NAME).map_err(write_err)?;
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_err(e)),
        };
        hasher.update(&buf[..n]);
        staged.file().write_all(&buf[..n]).map_err(write_err)?;
        bytes += n as u64;
    }
    let dest = dest_dir.join(PLUGIN_NAME);
    staged.publish(&dest, 0o755).map_err(write_err)?;
    Ok(Installed {
        dest,
        bytes,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// The subcommand: install, then say what was installed.
pub fn run(source: &Path, dest_dir: &Path) -> anyhow::Result<()> {
    let done = install(source, dest_dir)?;
    println!(
        "installed {} as {} ({} bytes, sha256 {})",
        source.display(),
        done.dest.display(),
        done.bytes,
        done.sha256
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn installs_the_plugin_executable_and_replaces_an_old_one() {
        let src_dir = tempfile::tempdir().unwrap();
        let bin = tempfile::tempdir().unwrap();
        let source = src_dir.path().join("berth-plugin");
        fs::write(&source, b"new plugin").unwrap();
        fs::write(bin.path().join("berth"), b"old plugin").unwrap();
        fs::write(bin.path().join("bridge"), b"another plugin").unwrap();

        let done = install(&source, bin.path()).unwrap();

        assert_eq!(done.dest, bin.path().join("berth"));
        assert_eq!(done.bytes, 10);
        assert_eq!(done.sha256, hex::encode(Sha256::digest(b"new plugin")));
        assert_eq!(fs::read(&done.dest).unwrap(), b"new plugin");
        let mode = fs::metadata(&done.dest).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o755);
        // Nothing staged is left, and the neighbours are untouched.
        let mut names: Vec<_> = fs::read_dir(bin.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["berth", "bridge"]);
    }

    #[test]
    fn a_missing_source_or_dest_dir_is_an_error_that_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = install(&missing, dir.path()).unwrap_err();
        assert!(matches!(err, InstallError::Source { .. }), "{err}");
        assert!(err.to_string().contains("nope"), "{err}");

        let source = dir.path().join("plugin");
        fs::write(&source, b"x").unwrap();
        let err = install(&source, &missing).unwrap_err();
        assert!(matches!(err, InstallError::DestNotADir(_)), "{err}");

        let err = install(dir.path(), dir.path()).unwrap_err();
        assert!(matches!(err, InstallError::SourceNotAFile(_)), "{err}");
    }
}
