//! CNI ADD latency through the real `berth` binary against a running
//! `berthd` (embedded store, default policy chain), beside Debian's
//! `host-local` and a no-op exec measured in the same run.
//!
//! Build the binaries first in release:
//!   cargo build --release -p berth-daemon -p berth-cni && cargo bench -p berth-e2e
//! Targets (BRIEF §5): berth median ≤ 2 ms, p99 ≤ 5 ms.

use berth_e2e::cni::{exec, pod_args, CniCall};
use berth_e2e::daemon::Daemon;
use serde_json::json;
use std::path::Path;
use std::time::Instant;

const ADDS: usize = 1_000;
const WARMUP: usize = 50;

fn main() {
    let plugin_dir = berth_e2e::CNI_PLUGIN_DIR;
    let bin = berth_e2e::bin_dir();
    let cni_path = format!("{}:{plugin_dir}", bin.display());

    let mut config = berth_e2e::scenario::seed_config(vec![]);
    config["pools"] = json!([{ "name": "bench", "subnet": "10.8.0.0/16", "default": true }]);
    let daemon = Daemon::start(config.clone());
    // The same daemon with its store on tmpfs: what a durable commit on this
    // VM's disk (one fdatasync) adds to each ADD.
    let tmpfs = Daemon::start_in(config, std::path::Path::new("/dev/shm"));
    let tmpfs_conf = json!({
        "cniVersion": "1.0.0", "name": "bench-tmpfs",
        "ipam": { "type": "berth", "socket": tmpfs.socket, "pools": ["bench"] }
    });
    let berth_conf = json!({
        "cniVersion": "1.0.0", "name": "bench",
        "ipam": { "type": "berth", "socket": daemon.socket, "pools": ["bench"] }
    });
    let host_local_dir = tempfile::tempdir().expect("temp dir");
    let host_local_conf = json!({
        "cniVersion": "1.0.0", "name": "bench-hl",
        "ipam": { "type": "host-local", "subnet": "10.9.0.0/16",
                  "dataDir": host_local_dir.path() }
    });

    let berth = measure(|i| {
        let args = pod_args("bench", &format!("pod-{i}"), &format!("uid-{i}"));
        let call = CniCall {
            command: "ADD",
            container_id: &format!("b-{i}"),
            netns: None,
            ifname: "eth0",
            args: &args,
        };
        assert!(exec(&bin.join("berth"), None, &cni_path, &call, &berth_conf).success);
    });
    let berth_tmpfs = measure(|i| {
        let args = pod_args("bench", &format!("pod-{i}"), &format!("uid-{i}"));
        let call = CniCall {
            command: "ADD",
            container_id: &format!("t-{i}"),
            netns: None,
            ifname: "eth0",
            args: &args,
        };
        assert!(exec(&bin.join("berth"), None, &cni_path, &call, &tmpfs_conf).success);
    });
    let host_local = measure(|i| {
        let call = CniCall {
            command: "ADD",
            container_id: &format!("h-{i}"),
            netns: None,
            ifname: "eth0",
            args: "",
        };
        assert!(
            exec(
                &Path::new(plugin_dir).join("host-local"),
                None,
                &cni_path,
                &call,
                &host_local_conf
            )
            .success
        );
    });
    let noop = measure(|_| {
        let status = std::process::Command::new("/bin/true")
            .status()
            .expect("exec true");
        assert!(status.success());
    });

    println!("CNI ADD latency, {ADDS} ADDs each (after {WARMUP} warm-up), same run:");
    report("berth → berthd (sticky chain, redb)", &berth);
    report("same, store on tmpfs (no disk flush)", &berth_tmpfs);
    report("host-local (Debian)", &host_local);
    report("exec /bin/true (floor)", &noop);
    println!("target: berth median ≤ 2000 µs, p99 ≤ 5000 µs");
}

fn measure(mut one: impl FnMut(usize)) -> Vec<u64> {
    for i in 0..WARMUP {
        one(1_000_000 + i);
    }
    let mut samples: Vec<u64> = (0..ADDS)
        .map(|i| {
            let start = Instant::now();
            one(i);
            u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
        })
        .collect();
    samples.sort_unstable();
    samples
}

fn report(name: &str, sorted_us: &[u64]) {
    let at = |q: f64| sorted_us[((sorted_us.len() as f64 - 1.0) * q) as usize];
    println!(
        "  {name:<40} median {:>6} µs   p99 {:>6} µs",
        at(0.5),
        at(0.99)
    );
}
