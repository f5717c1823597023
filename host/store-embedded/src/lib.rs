//! The embedded store: every allocation record in one redb file, one table
//! keyed by "pool/address" with the record as JSON.
//!
//! Each [`Store::apply`] is one write transaction committed with immediate
//! durability, so an ADD the daemon answered survives a crash or power
//! loss, and a batch is either entirely on disk or not at all. redb locks
//! the file, so a second daemon on the same file fails with a clear error
//! instead of corrupting it.

use berth_core::limits::STORE_CACHE_BYTES_MAX;
use berth_core::record::{AddressRecord, Mutation};
use berth_core::store::{Store, StoreError};
use redb::{Database, DatabaseError, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// "pool/address" -> JSON `AddressRecord`.
const RECORDS: TableDefinition<&str, &[u8]> = TableDefinition::new("records");

pub struct EmbeddedStore {
    db: Database,
    path: PathBuf,
}

impl EmbeddedStore {
    /// Opens the store, creating the file (0600) and its directory (0700)
    /// when missing.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        let io = |operation, e: std::io::Error| StoreError::Backend {
            operation,
            message: format!("{shown}: {e}"),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| io("create directory", e))?;
        }
        // Create it ourselves so the mode is 0600 (records name workloads);
        // redb initialises an empty file.
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| io("create file", e))?;
        // redb caches up to 1 GiB by default; the daemon's state is in
        // memory already, so the store only needs enough to write quickly.
        let db = Database::builder()
            .set_cache_size(STORE_CACHE_BYTES_MAX)
            .create(path)
            .map_err(|e| open_error(&shown, e))?;
        let store = EmbeddedStore {
            db,
            path: path.to_owned(),
        };
        // The table exists from the first open on, so `load` of a new
        // store is an empty list rather than a missing-table case.
        store.apply(&[])?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn backend(&self, operation: &'static str, e: impl std::fmt::Display) -> StoreError {
        StoreError::Backend {
            operation,
            message: format!("{}: {e}", self.path.display()),
        }
    }
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

impl Store for EmbeddedStore {
    fn load(&self) -> Result<Vec<AddressRecord>, StoreError> {
        let txn = self.db.begin_read().map_err(|e| self.backend("read", e))?;
        let table = txn
            .open_table(RECORDS)
            .map_err(|e| self.backend("read", e))?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(|e| self.backend("read", e))? {
            let (key, value) = entry.map_err(|e| self.backend("read", e))?;
            let key = key.value();
            let record: AddressRecord =
                serde_json::from_slice(value.value()).map_err(|e| StoreError::Decode {
                    key: key.to_owned(),
                    message: e.to_string(),
                })?;
            if record.key() != key {
                return Err(StoreError::Decode {
                    key: key.to_owned(),
                    message: format!("holds the record of {}", record.key()),
                });
            }
            out.push(record);
        }
        Ok(out)
    }

    fn apply(&self, mutations: &[Mutation]) -> Result<(), StoreError> {
        // Encode first: nothing is written unless the whole batch encodes.
        let mut encoded = Vec::with_capacity(mutations.len());
        for m in mutations {
            let value = match m {
                Mutation::Put(record) => {
                    Some(serde_json::to_vec(record).map_err(|e| self.backend("encode", e))?)
                }
                Mutation::Remove { .. } => None,
            };
            encoded.push((m.key(), value));
        }
        let mut txn = self
            .db
            .begin_write()
            .map_err(|e| self.backend("write", e))?;
        txn.set_durability(Durability::Immediate)
            .map_err(|e| self.backend("write", e))?;
        {
            let mut table = txn
                .open_table(RECORDS)
                .map_err(|e| self.backend("write", e))?;
            for (key, value) in &encoded {
                match value {
                    Some(bytes) => {
                        table
                            .insert(key.as_str(), bytes.as_slice())
                            .map_err(|e| self.backend("write", e))?;
                    }
                    None => {
                        let removed = table
                            .remove(key.as_str())
                            .map_err(|e| self.backend("write", e))?;
                        // The allocator planned this from its state; a
                        // missing record means store and allocator diverged.
                        // Dropping the transaction aborts the whole batch.
                        if removed.is_none() {
                            return Err(StoreError::Conflict {
                                message: format!("remove of {key}, which is not stored"),
                            });
                        }
                    }
                }
            }
        }
        txn.commit().map_err(|e| self.backend("commit", e))
    }
}
