//! Opening the store file: a new store is created whole (header included)
//! under a temporary name and renamed into place, so a crash during
//! creation leaves no half-made store; an existing file is used only when
//! its header says it is a Berth store of this node.

use crate::header::{self, Header};
use crate::limits::STORE_CACHE_BYTES_MAX;
use berth_core::store::StoreError;
use redb::{Database, DatabaseError};
use std::fs::{DirBuilder, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// How the file was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    Created,
    Existing,
    /// A store from before the header; the header was added.
    AdoptedLegacy,
}

/// Opens `path` as the store of `node`, creating it when missing.
pub(crate) fn open_or_create(path: &Path, node: &str) -> Result<(Database, Opened), StoreError> {
    let shown = path.display().to_string();
    let io = |operation, e: std::io::Error| StoreError::Backend {
        operation,
        message: format!("{shown}: {e}"),
    };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| io("create directory", e))?;
    }
    match std::fs::metadata(path) {
        Ok(meta) if meta.len() == 0 => Err(StoreError::Corrupt {
            path: shown,
            message: "the file is empty (0 bytes): it was truncated, and starting on it would \
                      hand out addresses that existing pods hold. Restore it from a backup; \
                      only if no pod on this host has an address from berthd, delete it"
                .to_owned(),
        }),
        Ok(_) => open_existing(path, node, &shown),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok((create(path, node, &shown, dir)?, Opened::Created))
        }
        Err(e) => Err(io("stat", e)),
    }
}

fn open_existing(path: &Path, node: &str, shown: &str) -> Result<(Database, Opened), StoreError> {
    let db = open_db(path)?;
    match header::read(&db, shown)? {
        Header::Berth { node: owner } if owner == node => Ok((db, Opened::Existing)),
        Header::Berth { node: owner } => Err(StoreError::Corrupt {
            path: shown.to_owned(),
            message: format!(
                "it is the store of node {owner:?}, and this berthd runs as node {node:?}. \
                 If this host was renamed, set BERTH_NODE_NAME={owner}; if the data \
                 directory was copied from another host, give this one its own"
            ),
        }),
        Header::Legacy => {
            // Written by a berthd from before the header: adopt it.
            header::write(&db, node, shown)?;
            Ok((db, Opened::AdoptedLegacy))
        }
        Header::Foreign => Err(StoreError::Corrupt {
            path: shown.to_owned(),
            message: "it is a database, but not a Berth store (no Berth header or records); \
                      point dataDir at the Berth store or at an empty directory"
                .to_owned(),
        }),
    }
}

fn create(
    path: &Path,
    node: &str,
    shown: &str,
    dir: Option<&Path>,
) -> Result<Database, StoreError> {
    let io = |operation, e: std::io::Error| StoreError::Backend {
        operation,
        message: format!("{shown}: {e}"),
    };
    let mut partial = path.as_os_str().to_owned();
    partial.push(".new");
    let partial = std::path::PathBuf::from(partial);
    // A leftover from a crash during an earlier creation never held records.
    match std::fs::remove_file(&partial) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("remove partial store", e)),
    }
    // Created by us so the mode is 0600 (records name workloads).
    OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(&partial)
        .map_err(|e| io("create file", e))?;
    {
        let db = open_db(&partial)?;
        header::write(&db, node, shown)?;
    }
    File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("sync", e))?;
    std::fs::rename(&partial, path).map_err(|e| io("rename", e))?;
    if let Some(dir) = dir {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io("sync directory", e))?;
    }
    open_db(path)
}

pub(crate) fn open_db(path: &Path) -> Result<Database, StoreError> {
    // redb caches up to 1 GiB by default; the daemon's state is in
    // memory already, so the store only needs enough to write quickly.
    Database::builder()
        .set_cache_size(STORE_CACHE_BYTES_MAX)
        .create(path)
        .map_err(|e| open_error(&path.display().to_string(), e))
}

fn open_error(path: &str, e: DatabaseError) -> StoreError {
    match e {
        DatabaseError::DatabaseAlreadyOpen | DatabaseError::LockProtocolMismatch => {
            StoreError::Locked {
                path: path.to_owned(),
            }
        }
        DatabaseError::Storage(redb::StorageError::Corrupted(message)) => StoreError::Corrupt {
            path: path.to_owned(),
            message,
        },
        // redb reports a file that is not a database (bad magic) as invalid
        // data; that is a damaged or foreign file, not a transient IO error.
        DatabaseError::Storage(redb::StorageError::Io(io))
            if io.kind() == std::io::ErrorKind::InvalidData =>
        {
            StoreError::Corrupt {
                path: path.to_owned(),
                message: io.to_string(),
            }
        }
        DatabaseError::RepairAborted | DatabaseError::UpgradeRequired(_) => StoreError::Corrupt {
            path: path.to_owned(),
            message: e.to_string(),
        },
        other => StoreError::Backend {
            operation: "open",
            message: format!("{path}: {other}"),
        },
    }
}
