//! Cost of one durable `apply` of one Put (one redb write transaction with
//! immediate durability): what every ADD pays for its store write.
//! `cargo bench -p berth-store-embedded`.

// The tests' record builder; the bench uses only `record_with`.
#[allow(dead_code)]
#[path = "../tests/common/mod.rs"]
mod common;

use berth_core::record::{AddressRecord, Mutation};
use berth_core::store::Store;
use berth_store_embedded::EmbeddedStore;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

const WARMUP: u32 = 50;
const ROUNDS: u32 = 1000;

/// A record with full-length ids (64-hex container id, UUID-long pod uid),
/// so each write is the size a real one is.
fn record(i: u32) -> AddressRecord {
    common::record_with(
        "bench",
        i,
        format!("{i:064x}"),
        format!("00000000-0000-0000-0000-{i:012}"),
    )
}

fn stats(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    (at(0.5), at(0.99))
}

/// The device's floor: one 4 KiB write + fdatasync, what any durable
/// commit pays at least once.
fn fsync_floor(dir: &Path) -> (f64, f64) {
    let mut file = std::fs::File::create(dir.join("fsync.probe")).expect("probe");
    let block = [0u8; 4096];
    let samples = (0..ROUNDS / 5)
        .map(|_| {
            let start = Instant::now();
            file.write_all(&block).expect("write");
            file.sync_data().expect("fdatasync");
            start.elapsed().as_nanos() as f64 / 1000.0
        })
        .collect();
    stats(samples)
}

fn bench_in(parent: &Path) {
    let dir = tempfile::tempdir_in(parent).expect("tempdir");
    let store = EmbeddedStore::open(&dir.path().join("bench.redb"), "bench").expect("open");
    let mut samples = Vec::with_capacity(ROUNDS as usize);
    for i in 0..WARMUP + ROUNDS {
        let batch = [Mutation::Put(record(i))];
        let start = Instant::now();
        store.apply(&batch).expect("apply");
        if i >= WARMUP {
            samples.push(start.elapsed().as_nanos() as f64 / 1000.0);
        }
    }
    let (p50, p99) = stats(samples);
    let (f50, f99) = fsync_floor(dir.path());
    println!(
        "{}: store apply (1 Put, immediate durability) median {p50:.1} us, p99 {p99:.1} us \
         (n={ROUNDS}); 4 KiB write+fdatasync median {f50:.1} us, p99 {f99:.1} us",
        parent.display()
    );
}

fn main() {
    // The state directory's disk (override with BERTH_BENCH_DIR), and
    // tmpfs when there is one: the latter shows redb's own cost without
    // the device flush.
    let disk = std::env::var_os("BERTH_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    bench_in(&disk);
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        bench_in(shm);
    }
}
