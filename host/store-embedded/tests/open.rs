//! What the store opens, and what it refuses: an empty, foreign or other
//! node's file is never taken for a new store (a new store would hand out
//! addresses existing pods still hold).

use berth_core::store::{Store, StoreError};
use berth_store_embedded::{EmbeddedStore, Opened};
use redb::{Database, TableDefinition};

fn corrupt_message(result: Result<EmbeddedStore, StoreError>) -> String {
    match result {
        Err(StoreError::Corrupt { message, .. }) => message,
        Err(other) => panic!("expected Corrupt, got {other}"),
        Ok(_) => panic!("opened a file it must refuse"),
    }
}

#[test]
fn an_empty_file_is_refused_not_taken_for_a_new_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("berth.redb");
    EmbeddedStore::open(&path, "node-a").expect("create");
    std::fs::write(&path, b"").expect("truncate");
    let message = corrupt_message(EmbeddedStore::open(&path, "node-a"));
    assert!(message.contains("empty"), "{message}");
    assert_eq!(
        std::fs::metadata(&path).expect("stat").len(),
        0,
        "file changed"
    );
}

#[test]
fn a_foreign_database_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("berth.redb");
    {
        let db = Database::create(&path).expect("foreign db");
        let txn = db.begin_write().expect("txn");
        let other: TableDefinition<&str, &str> = TableDefinition::new("something-else");
        txn.open_table(other).expect("table");
        txn.commit().expect("commit");
    }
    let message = corrupt_message(EmbeddedStore::open(&path, "node-a"));
    assert!(message.contains("not a Berth store"), "{message}");
}

#[test]
fn another_nodes_store_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("berth.redb");
    drop(EmbeddedStore::open(&path, "node-a").expect("create"));
    let message = corrupt_message(EmbeddedStore::open(&path, "node-b"));
    assert!(message.contains("BERTH_NODE_NAME=node-a"), "{message}");
    let again = EmbeddedStore::open(&path, "node-a").expect("its own node opens it");
    assert_eq!(again.opened(), Opened::Existing);
}

#[test]
fn a_store_from_before_the_header_is_adopted_with_its_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("berth.redb");
    {
        // What berthd wrote before the header existed: the records table only.
        let db = Database::create(&path).expect("legacy db");
        let txn = db.begin_write().expect("txn");
        let records: TableDefinition<&str, &[u8]> = TableDefinition::new("records");
        txn.open_table(records).expect("table");
        txn.commit().expect("commit");
    }
    let store = EmbeddedStore::open(&path, "node-a").expect("adopted");
    assert_eq!(store.opened(), Opened::AdoptedLegacy);
    assert!(store.load().expect("load").is_empty());
    drop(store);
    let store = EmbeddedStore::open(&path, "node-a").expect("reopen");
    assert_eq!(store.opened(), Opened::Existing);
}

#[test]
fn a_creation_interrupted_before_the_rename_leaves_no_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("berth.redb");
    // A crash mid-creation leaves only the temporary file.
    std::fs::write(dir.path().join("berth.redb.new"), b"").expect("partial");
    let store = EmbeddedStore::open(&path, "node-a").expect("create");
    assert_eq!(store.opened(), Opened::Created);
    assert!(!dir.path().join("berth.redb.new").exists());
    assert!(store.health().is_ok());
}
