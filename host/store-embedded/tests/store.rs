//! The embedded store keeps what it acknowledged: round trips, atomic
//! batches, reopening, locking, corruption, and a process killed mid-write.

mod common;

use berth_core::record::{AddressRecord, Mutation, RecordState};
use berth_core::store::{Store, StoreError};
use berth_store_embedded::EmbeddedStore;
use common::record;
use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn sorted(mut records: Vec<AddressRecord>) -> Vec<AddressRecord> {
    records.sort_by_key(|r| r.address);
    records
}

#[test]
fn round_trip_and_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested/state/berth.redb");
    let written: Vec<AddressRecord> = (1..=5).map(record).collect();
    {
        let store = EmbeddedStore::open(&path, "node-a").expect("open");
        assert!(store.load().expect("load").is_empty());
        let puts: Vec<Mutation> = written.iter().cloned().map(Mutation::Put).collect();
        store.apply(&puts).expect("apply");
        let mut retained = record(2);
        retained.attachment = None;
        retained.state = RecordState::Retained {
            since_unix_secs: 5,
            expires_at_unix_secs: Some(10),
        };
        store
            .apply(&[
                Mutation::Put(retained),
                Mutation::Remove {
                    pool: "pool-a".into(),
                    address: record(5).address,
                },
            ])
            .expect("apply");
    }
    let mode = std::fs::metadata(path.parent().expect("dir"))
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700, "state directory is private");
    let store = EmbeddedStore::open(&path, "node-a").expect("reopen");
    let loaded = sorted(store.load().expect("load"));
    assert_eq!(loaded.len(), 4);
    assert_eq!(loaded[0], written[0]);
    assert!(matches!(loaded[1].state, RecordState::Retained { .. }));
    assert!(!loaded.iter().any(|r| r.address == written[4].address));
}

#[test]
fn a_failing_batch_applies_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = EmbeddedStore::open(&dir.path().join("s.redb"), "node-a").expect("open");
    store.apply(&[Mutation::Put(record(1))]).expect("apply");
    let err = store
        .apply(&[
            Mutation::Put(record(2)),
            Mutation::Remove {
                pool: "pool-a".into(),
                address: record(1).address,
            },
            Mutation::Remove {
                pool: "pool-a".into(),
                address: record(9).address,
            },
        ])
        .expect_err("removing a record that is not stored fails");
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    assert_eq!(store.load().expect("load"), vec![record(1)]);
}

#[test]
fn a_second_opener_is_told_the_file_is_locked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.redb");
    let _first = EmbeddedStore::open(&path, "node-a").expect("open");
    let err = EmbeddedStore::open(&path, "node-a")
        .err()
        .expect("second open fails");
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert!(err.to_string().contains("another berthd"), "{err}");
}

#[test]
fn a_garbage_file_is_reported_not_trusted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.redb");
    std::fs::write(&path, vec![0x5a; 64 * 1024]).expect("write garbage");
    let err = EmbeddedStore::open(&path, "node-a")
        .err()
        .expect("garbage refused");
    eprintln!("garbage file: {err}");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
}

const CHILD_ENV: &str = "BERTH_STORE_CRASH_CHILD";

/// Kills a writer with SIGKILL mid-stream and checks every record it
/// acknowledged (printed after its commit returned) is there after reopen.
#[test]
fn killed_writer_loses_no_acknowledged_record() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        return crash_child(&path);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crash.redb");
    for round in 0..3 {
        let mut child = Command::new(std::env::current_exe().expect("exe"))
            .args([
                "--exact",
                "killed_writer_loses_no_acknowledged_record",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .env("BERTH_CRASH_ROUND", round.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn child");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut acked = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        // Kill after a few commits, at a moment the child is mid-write.
        while acked.len() < 40 + round * 17 && Instant::now() < deadline {
            match lines.next() {
                Some(Ok(line)) => acked.extend(line.strip_prefix("ACK ").map(str::to_owned)),
                _ => break,
            }
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        // Lines written before the kill are still in the pipe.
        acked.extend(
            lines
                .map_while(Result::ok)
                .filter_map(|l| l.strip_prefix("ACK ").map(str::to_owned)),
        );
        assert!(
            acked.len() >= 40,
            "child acknowledged only {} records",
            acked.len()
        );

        let store = EmbeddedStore::open(&path, "node-a").expect("reopens cleanly after SIGKILL");
        let loaded = store.load().expect("load");
        let keys: std::collections::HashSet<String> =
            loaded.iter().map(AddressRecord::key).collect();
        let addrs: std::collections::HashSet<IpAddr> = loaded.iter().map(|r| r.address).collect();
        for r in &loaded {
            let IpAddr::V4(v4) = r.address else {
                panic!("v4 only")
            };
            let pair = IpAddr::V4(Ipv4Addr::from(u32::from(v4) ^ 1));
            assert!(
                addrs.contains(&pair),
                "round {round}: torn batch at {}",
                r.address
            );
        }
        for key in &acked {
            assert!(keys.contains(key), "round {round}: acknowledged {key} lost");
        }
    }
}

fn crash_child(path: &str) {
    let round: u32 = std::env::var("BERTH_CRASH_ROUND")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let store = EmbeddedStore::open(std::path::Path::new(path), "node-a").expect("child open");
    let mut out = std::io::stdout().lock();
    for i in 0.. {
        let n = round * 100_000 + i;
        // Two records per batch, so a torn batch would show as one without
        // the other.
        let batch = [
            Mutation::Put(record(2 * n)),
            Mutation::Put(record(2 * n + 1)),
        ];
        store.apply(&batch).expect("child apply");
        for m in &batch {
            writeln!(out, "ACK {}", m.key()).expect("stdout");
        }
        out.flush().expect("flush");
    }
}
