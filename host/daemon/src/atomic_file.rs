//! Write-then-rename, for the init-container subcommands (`install-cni`,
//! `fetch-policy`): a file is written under a temporary name in its final
//! directory, made durable, then renamed over the destination. A reader —
//! a container runtime executing the CNI plugin, berthd loading a policy —
//! therefore sees the old file or the complete new one, never a torn one,
//! and a crash leaves at most the temporary file, which the next run
//! replaces.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A temporary file in the destination's directory. Dropped without
/// [`Staged::publish`], it is removed.
pub struct Staged {
    path: PathBuf,
    file: File,
    published: bool,
}

impl Staged {
    /// Creates `dir/tmp_name`, replacing a leftover of an earlier run that
    /// died half way (the init container restarts with the same name).
    /// Created 0600: nobody reads it before it is complete.
    pub fn create(dir: &Path, tmp_name: &str) -> io::Result<Staged> {
        let path = dir.join(tmp_name);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        // create_new: never follow a symlink someone planted at that name.
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        Ok(Staged {
            path,
            file,
            published: false,
        })
    }

    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// Sets `mode`, flushes the data to disk, renames the file to `dest`
    /// (same directory) and flushes the directory, so that after a power
    /// loss `dest` is either the old file or the whole new one.
    pub fn publish(mut self, dest: &Path, mode: u32) -> io::Result<()> {
        self.file.set_permissions(Permissions::from_mode(mode))?;
        self.file.sync_all()?;
        fs::rename(&self.path, dest)?;
        self.published = true;
        let dir = dest.parent().unwrap_or_else(|| Path::new("."));
        File::open(dir)?.sync_all()
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if self.published {
            return;
        }
        // Drop cannot return the error; say it rather than lose it (the
        // next run replaces the file anyway).
        if let Err(e) = fs::remove_file(&self.path) {
            if e.kind() != io::ErrorKind::NotFound {
                eprintln!("warning: cannot remove {}: {e}", self.path.display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use std::io::Write;

    #[test]
    fn publish_replaces_the_destination_with_the_mode_asked() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f");
        fs::write(&dest, b"old").unwrap();
        let mut staged = Staged::create(dir.path(), ".f.tmp").unwrap();
        staged.file().write_all(b"new").unwrap();
        staged.publish(&dest, 0o755).unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"new");
        let mode = fs::metadata(&dest).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o755);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_dropped_file_is_removed_and_a_leftover_replaced() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".f.tmp"), b"leftover").unwrap();
        let mut staged = Staged::create(dir.path(), ".f.tmp").unwrap();
        staged.file().write_all(b"partial").unwrap();
        drop(staged);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
