//! A full disk fails writes cleanly, reports the store unhealthy, and once
//! space is back the store writes again without a restart (redb poisons a
//! handle after an I/O error; the store opens the file again).
//!
//! Needs root: it mounts a 4 MiB tmpfs on a temporary directory of its own
//! and unmounts it afterwards.

mod common;

use berth_core::record::{AddressRecord, Mutation};
use berth_core::store::{Store, StoreError};
use berth_store_embedded::EmbeddedStore;
use std::io::Write;
use std::path::Path;
use std::process::Command;

struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .status()
            .expect("run mount");
        assert!(status.success(), "mounting a tmpfs needs root");
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a store handle still open in a failing test must not leave
        // the mount behind.
        let unmounted = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
        if !unmounted.is_ok_and(|s| s.success()) {
            eprintln!("could not unmount {}", self.dir.path().display());
        }
    }
}

/// A record with a long container id, so batches fill the disk quickly.
fn record(i: u32) -> AddressRecord {
    let mut r = common::record(i);
    if let Some(a) = &mut r.attachment {
        a.container_id = format!("c{i}-{}", "x".repeat(200));
    }
    r
}

/// Writes until the filesystem says it is full.
fn fill(path: &Path) {
    let mut file = std::fs::File::create(path).expect("filler");
    let block = vec![0u8; 16 * 1024];
    loop {
        if file
            .write_all(&block)
            .and_then(|()| file.sync_data())
            .is_err()
        {
            return;
        }
    }
}

#[test]
fn a_full_disk_fails_cleanly_and_the_store_recovers_when_space_is_back() {
    let fs = Tmpfs::mount("4m");
    let store = EmbeddedStore::open(&fs.path().join("berth.redb"), "node-a").expect("open");
    store
        .apply(&[Mutation::Put(record(0))])
        .expect("a write with room");
    let filler = fs.path().join("filler");
    fill(&filler);

    let mut acknowledged = vec![record(0)];
    let mut failed = None;
    for i in 1..200 {
        let batch: Vec<Mutation> = (0..20)
            .map(|j| Mutation::Put(record(i * 100 + j)))
            .collect();
        match store.apply(&batch) {
            Ok(()) => acknowledged.extend((0..20).map(|j| record(i * 100 + j))),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    let failed = failed.expect("the disk filled up");
    assert!(matches!(failed, StoreError::Backend { .. }), "{failed}");
    assert!(store.health().is_err(), "unhealthy while it cannot commit");
    assert!(store.apply(&[Mutation::Put(record(99_999))]).is_err());

    std::fs::remove_file(&filler).expect("free space");
    assert!(store.health().is_ok(), "healthy once space is back");
    store
        .apply(&[Mutation::Put(record(1))])
        .expect("writes work again without a restart");
    acknowledged.push(record(1));

    let mut loaded = store.load().expect("load");
    loaded.sort_by_key(|r| r.address);
    acknowledged.sort_by_key(|r| r.address);
    assert_eq!(
        loaded, acknowledged,
        "every acknowledged record, nothing else"
    );
}
