//! The embedded store: every allocation record in one redb file, one table
//! keyed by "pool/address" with the record as JSON, and a format header
//! naming the node the store belongs to (`header.rs`).
//!
//! Each [`Store::apply`] is one write transaction committed with immediate
//! durability, so an ADD the daemon answered survives a crash or power
//! loss, and a batch is either entirely on disk or not at all. redb locks
//! the file, so a second daemon on the same file fails with a clear error
//! instead of corrupting it.
//!
//! After an I/O error (a full disk, a failing device) redb refuses every
//! further transaction on that handle, so the store drops the handle and
//! opens the file again on next use: once space is back, writes work
//! again without a restart. Until a write succeeds, [`Store::health`]
//! reports the failure (CNI STATUS and `/healthz` say unhealthy).

mod header;
mod limits;
mod open;

pub use open::Opened;

use crate::limits::STORE_PROBE_BYTES;
use berth_core::record::{AddressRecord, Mutation};
use berth_core::store::{Store, StoreError};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// "pool/address" -> JSON `AddressRecord`.
pub(crate) const RECORDS: TableDefinition<&str, &[u8]> = TableDefinition::new("records");
/// Written only by the health probe after a failed write.
const PROBE: TableDefinition<&str, &[u8]> = TableDefinition::new("berth-health-probe");

pub struct EmbeddedStore {
    path: PathBuf,
    opened: Opened,
    /// `None` after an I/O error: the next use opens the file again.
    db: Mutex<Option<Database>>,
    /// Why the last write failed, until a write succeeds again.
    failing: Mutex<Option<String>>,
}

impl EmbeddedStore {
    /// Opens the store of `node`, creating the file (0600, header
    /// included) and its directory (0700) when missing. An empty file, a
    /// foreign file or another node's store is refused with what to do.
    pub fn open(path: &Path, node: &str) -> Result<Self, StoreError> {
        let (db, opened) = open::open_or_create(path, node)?;
        Ok(EmbeddedStore {
            path: path.to_owned(),
            opened,
            db: Mutex::new(Some(db)),
            failing: Mutex::new(None),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file was created, found, or adopted from before the
    /// header existed (for the daemon's log).
    pub fn opened(&self) -> Opened {
        self.opened
    }

    fn backend(&self, operation: &'static str, e: impl std::fmt::Display) -> StoreError {
        StoreError::Backend {
            operation,
            message: format!("{}: {e}", self.path.display()),
        }
    }

    /// Runs `f` on the open database, opening the file again first if an
    /// earlier I/O error closed it. A backend error closes the handle, so
    /// the next call starts from a fresh one.
    fn with_db<T>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut slot = lock(&self.db);
        if slot.is_none() {
            *slot = Some(open::open_db(&self.path)?);
        }
        let Some(db) = slot.as_ref() else {
            unreachable!("opened just above")
        };
        let result = f(db);
        if matches!(result, Err(StoreError::Backend { .. })) {
            // redb poisons a handle after an I/O error ("Previous I/O
            // error occurred. Please close and re-open the database").
            *slot = None;
        }
        result
    }

    fn note_write(&self, result: &Result<(), StoreError>) {
        let mut failing = lock(&self.failing);
        match result {
            Ok(()) => *failing = None,
            Err(e @ StoreError::Backend { .. }) => *failing = Some(e.to_string()),
            // A conflict is a planning problem, not the disk's.
            Err(_) => {}
        }
    }

    fn write(&self, encoded: &[(String, Option<Vec<u8>>)]) -> Result<(), StoreError> {
        self.with_db(|db| {
            let mut txn = db.begin_write().map_err(|e| self.backend("write", e))?;
            txn.set_durability(Durability::Immediate)
                .map_err(|e| self.backend("write", e))?;
            {
                let mut table = txn
                    .open_table(RECORDS)
                    .map_err(|e| self.backend("write", e))?;
                for (key, value) in encoded {
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
                            // missing record means store and allocator
                            // diverged. Dropping the transaction aborts the
                            // whole batch.
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
        })
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain data; a panic elsewhere cannot leave it half-updated.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Store for EmbeddedStore {
    fn load(&self) -> Result<Vec<AddressRecord>, StoreError> {
        self.with_db(|db| {
            let txn = db.begin_read().map_err(|e| self.backend("read", e))?;
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
        })
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
        let result = self.write(&encoded);
        self.note_write(&result);
        result
    }

    /// Healthy while writes succeed. After a failed write, a durable probe
    /// write the size of a large batch decides (an empty commit needs no
    /// new pages and succeeds on a full disk): the disk may have room again
    /// though no request has written since.
    fn health(&self) -> Result<(), StoreError> {
        if lock(&self.failing).is_none() {
            return Ok(());
        }
        let result = self.with_db(|db| {
            let mut txn = db.begin_write().map_err(|e| self.backend("probe", e))?;
            txn.set_durability(Durability::Immediate)
                .map_err(|e| self.backend("probe", e))?;
            {
                let mut probe = txn
                    .open_table(PROBE)
                    .map_err(|e| self.backend("probe", e))?;
                probe
                    .insert("probe", vec![0u8; STORE_PROBE_BYTES].as_slice())
                    .map_err(|e| self.backend("probe", e))?;
            }
            txn.commit().map_err(|e| self.backend("probe", e))
        });
        self.note_write(&result);
        result
    }
}
