//! The store's format header: written once, when this code creates the
//! file, and checked at every open. It is what tells a Berth store apart
//! from an empty, truncated or foreign file — each of which would
//! otherwise be taken for a new store, and a new store hands out addresses
//! the existing pods still use.

use crate::RECORDS;
use berth_core::store::StoreError;
use redb::{Database, ReadableDatabase, TableDefinition, TableError};

/// "format" and "node" -> their values.
pub(crate) const META: TableDefinition<&str, &str> = TableDefinition::new("berth-meta");
pub(crate) const FORMAT: &str = "berth-store/1";

/// What the header says about an opened database.
pub(crate) enum Header {
    /// A Berth store of this format, created for `node`.
    Berth { node: String },
    /// Records but no header: a store written before the header existed.
    Legacy,
    /// Neither a header nor records: not a store this code wrote.
    Foreign,
}

pub(crate) fn read(db: &Database, shown: &str) -> Result<Header, StoreError> {
    let corrupt = |message: String| StoreError::Corrupt {
        path: shown.to_owned(),
        message,
    };
    let txn = db.begin_read().map_err(|e| corrupt(e.to_string()))?;
    let meta = match txn.open_table(META) {
        Ok(table) => table,
        Err(TableError::TableDoesNotExist(_)) => {
            return match txn.open_table(RECORDS) {
                Ok(_) => Ok(Header::Legacy),
                Err(TableError::TableDoesNotExist(_)) => Ok(Header::Foreign),
                Err(e) => Err(corrupt(e.to_string())),
            };
        }
        Err(e) => return Err(corrupt(e.to_string())),
    };
    let get = |key: &str| -> Result<Option<String>, StoreError> {
        Ok(meta
            .get(key)
            .map_err(|e| corrupt(e.to_string()))?
            .map(|v| v.value().to_owned()))
    };
    match get("format")? {
        Some(format) if format == FORMAT => Ok(Header::Berth {
            node: get("node")?.unwrap_or_default(),
        }),
        Some(other) => Err(corrupt(format!(
            "it is a store of format {other:?}, this berthd reads {FORMAT:?} (a newer berthd wrote it?)"
        ))),
        None => Err(corrupt("its header names no format".to_owned())),
    }
}

/// Writes the header (and the empty records table, so `load` of a new
/// store is an empty list) in one durable transaction.
pub(crate) fn write(db: &Database, node: &str, shown: &str) -> Result<(), StoreError> {
    let backend = |e: &dyn std::fmt::Display| StoreError::Backend {
        operation: "write header",
        message: format!("{shown}: {e}"),
    };
    let txn = db.begin_write().map_err(|e| backend(&e))?;
    {
        let mut meta = txn.open_table(META).map_err(|e| backend(&e))?;
        meta.insert("format", FORMAT).map_err(|e| backend(&e))?;
        meta.insert("node", node).map_err(|e| backend(&e))?;
        txn.open_table(RECORDS).map_err(|e| backend(&e))?;
    }
    txn.commit().map_err(|e| backend(&e))
}
