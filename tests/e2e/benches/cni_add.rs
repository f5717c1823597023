//! CNI ADD latency through the real `berth` binary against a running
//! `berthd` (embedded store, default policy chain), beside Debian's
//! `host-local`, a no-op exec and one fdatasync, all measured in the same
//! run and interleaved round by round, so load from other processes on a
//! shared machine hits every row alike. Then where berth's time went,
//! phase by phase: the plugin's own marks (`BERTH_PHASE_LOG`) and the
//! daemon's per-phase sums from `/metrics`.
//!
//! Build the binaries first in release:
//!   cargo build --release -p berth-daemon -p berth-cni && cargo bench -p berth-e2e
//! Targets (issue 15): tmpfs ADD ≤ floor + 400 µs median; on disk ≤ floor +
//! one fdatasync + 400 µs; ≥ 5× faster than host-local at median and p99.

use berth_e2e::cni::{exec_with_env, pod_args, CniCall};
use berth_e2e::daemon::Daemon;
use berth_e2e::phases::{wall_nanos, DaemonPhases, PluginMarks, PHASE_LOG_VAR, PLUGIN_PHASES};
use serde_json::{json, Value};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ADDS: usize = 1_000;
const WARMUP: usize = 50;
/// The target the image's binaries are built for (scripts/build-image).
const MUSL_TARGET: &str = "x86_64-unknown-linux-musl";

/// One berth daemon under test and what was measured against it.
struct Target {
    label: &'static str,
    daemon: Daemon,
    metrics_port: u16,
    conf: Value,
    prefix: &'static str,
    samples: Vec<u64>,
    marks: Vec<PluginMarks>,
}

impl Target {
    fn start(label: &'static str, prefix: &'static str, base: &Path) -> Self {
        let metrics_port = berth_e2e::http::free_port();
        let mut config = berth_e2e::scenario::seed_config(vec![]);
        config["pools"] = json!([{ "name": "bench", "subnet": "10.8.0.0/16", "default": true }]);
        config["metricsAddress"] = json!(format!("127.0.0.1:{metrics_port}"));
        let daemon = Daemon::start_in(config, base);
        let conf = json!({
            "cniVersion": "1.0.0", "name": format!("bench-{prefix}"),
            "ipam": { "type": "berth", "socket": daemon.socket, "pools": ["bench"] }
        });
        Self {
            label,
            daemon,
            metrics_port,
            conf,
            prefix,
            samples: Vec::with_capacity(ADDS),
            marks: Vec::with_capacity(ADDS),
        }
    }

    fn add(&mut self, i: usize, cni_path: &str, plugin: &Path, keep: bool) {
        let args = pod_args("bench", &format!("pod-{i}"), &format!("uid-{i}"));
        let container_id = format!("{}-{i}", self.prefix);
        let call = CniCall {
            command: "ADD",
            container_id: &container_id,
            netns: None,
            ifname: "eth0",
            args: &args,
        };
        let extra = [(PHASE_LOG_VAR, "1")];
        let spawned = wall_nanos();
        let start = Instant::now();
        let out = exec_with_env(plugin, None, cni_path, &call, &self.conf, &extra);
        let elapsed = start.elapsed();
        let reaped = wall_nanos();
        assert!(out.success, "{}\n{}", out.stdout, out.stderr);
        if keep {
            self.samples.push(micros(elapsed));
            let marks = PluginMarks::parse(&out.stderr, spawned, reaped).expect("phase marks");
            self.marks.push(marks);
        }
    }

    fn daemon_phases(&self) -> DaemonPhases {
        // The endpoint serves a snapshot taken every second.
        std::thread::sleep(Duration::from_millis(1_200));
        DaemonPhases::parse(&berth_e2e::http::get(self.metrics_port, "/metrics"))
    }
}

fn main() {
    let plugin_dir = berth_e2e::CNI_PLUGIN_DIR;
    let bin = berth_e2e::bin_dir();
    let cni_path = format!("{}:{plugin_dir}", bin.display());
    let plugin = plugin_binary(&bin);

    let mut disk = Target::start(
        "berth → berthd (sticky chain, redb)",
        "b",
        &std::env::temp_dir(),
    );
    // The same daemon with its store on tmpfs: what a durable commit on
    // this machine's disk (one fdatasync) adds to each ADD.
    let mut tmpfs = Target::start(
        "same, store on tmpfs (no disk flush)",
        "t",
        Path::new("/dev/shm"),
    );
    let host_local_dir = tempfile::tempdir().expect("temp dir");
    let host_local_conf = json!({
        "cniVersion": "1.0.0", "name": "bench-hl",
        "ipam": { "type": "host-local", "subnet": "10.9.0.0/16",
                  "dataDir": host_local_dir.path() }
    });
    let host_local_bin = Path::new(plugin_dir).join("host-local");
    let mut sync_file = SyncProbe::new(disk.daemon.dir.path().join("fsync.probe"));

    let (mut host_local, mut noop, mut fsync) = (Vec::new(), Vec::new(), Vec::new());
    let mut before = (DaemonPhases::default(), DaemonPhases::default());
    for i in 0..WARMUP + ADDS {
        let keep = i >= WARMUP;
        if i == WARMUP {
            before = (disk.daemon_phases(), tmpfs.daemon_phases());
        }
        disk.add(i, &cni_path, &plugin, keep);
        tmpfs.add(i, &cni_path, &plugin, keep);
        let call = CniCall {
            command: "ADD",
            container_id: &format!("h-{i}"),
            netns: None,
            ifname: "eth0",
            args: "",
        };
        let start = Instant::now();
        let out = exec_with_env(
            &host_local_bin,
            None,
            &cni_path,
            &call,
            &host_local_conf,
            &[],
        );
        assert!(out.success, "host-local: {}", out.stderr);
        let host_local_us = micros(start.elapsed());
        let start = Instant::now();
        let status = std::process::Command::new("/bin/true")
            .status()
            .expect("exec true");
        assert!(status.success());
        let noop_us = micros(start.elapsed());
        let fsync_us = sync_file.one();
        if keep {
            host_local.push(host_local_us);
            noop.push(noop_us);
            fsync.push(fsync_us);
        }
    }
    let after = (disk.daemon_phases(), tmpfs.daemon_phases());

    println!("CNI ADD latency, {ADDS} rounds (after {WARMUP} warm-up), rows interleaved per round");
    println!("plugin: {}", plugin.display());
    let rows = [
        (disk.label, sorted(&disk.samples)),
        (tmpfs.label, sorted(&tmpfs.samples)),
        ("host-local (Debian)", sorted(&host_local)),
        ("exec /bin/true (floor)", sorted(&noop)),
        ("4 KiB write + fdatasync, disk (no exec)", sorted(&fsync)),
    ];
    for (name, samples) in &rows {
        println!(
            "  {name:<42} median {:>6} µs   p99 {:>6} µs",
            at(samples, 0.5),
            at(samples, 0.99)
        );
    }
    let [(_, berth), (_, shm), (_, hl), (_, floor), (_, sync)] = &rows;
    let over = |s: &[u64], q| at(s, q) as i64 - at(floor, q) as i64;
    println!(
        "tmpfs over the floor:   median {:>5} µs (target ≤ 400)",
        over(shm, 0.5)
    );
    println!(
        "disk over the floor:    median {:>5} µs (target ≤ one fdatasync {} + 400 = {})",
        over(berth, 0.5),
        at(sync, 0.5),
        at(sync, 0.5) + 400
    );
    let ratio = |q| at(hl, q) as f64 / at(berth, q).max(1) as f64;
    println!(
        "host-local / berth (disk): median {:.1}×, p99 {:.1}× (target ≥ 5×)",
        ratio(0.5),
        ratio(0.99)
    );

    println!("\nwhere berth's ADD time goes, µs per ADD (same rounds; berthd's phases are means):");
    println!(
        "  {:<46} {:>9} {:>9} {:>9} {:>9}",
        "phase", "redb mean", "median", "tmpfs mean", "median"
    );
    let plugin = [mean_phases(&disk.marks), mean_phases(&tmpfs.marks)];
    let medians = [median_phases(&disk.marks), median_phases(&tmpfs.marks)];
    let daemon = [after.0.mean_since(&before.0), after.1.mean_since(&before.1)];
    for (index, name) in PLUGIN_PHASES.iter().enumerate() {
        println!(
            "  {name:<46} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            plugin[0][index], medians[0][index], plugin[1][index], medians[1][index]
        );
        if index == 3 {
            for (phase, mean) in &daemon[0] {
                let tmpfs_mean = daemon[1]
                    .iter()
                    .find(|(p, _)| p == phase)
                    .map_or(0.0, |(_, m)| *m);
                println!(
                    "    berthd {phase:<39} {mean:>9.1} {:>9} {tmpfs_mean:>9.1}",
                    ""
                );
            }
            let inside = |d: &[(String, f64)]| d.iter().map(|(_, m)| m).sum::<f64>();
            println!(
                "    {:<46} {:>9.1} {:>9} {:>9.1}",
                "outside berthd's phases (socket, wake-ups)",
                plugin[0][index] - inside(&daemon[0]),
                "",
                plugin[1][index] - inside(&daemon[1])
            );
        }
    }
    let total = |m: &[f64; 6]| m.iter().sum::<f64>();
    println!(
        "  {:<46} {:>9.1} {:>9} {:>9.1}",
        "total",
        total(&plugin[0]),
        "",
        total(&plugin[1])
    );
    let floor_mean = noop.iter().sum::<u64>() as f64 / noop.len().max(1) as f64;
    println!(
        "  {:<46} {:>9.1} {:>9}",
        "exec /bin/true (floor)",
        floor_mean,
        at(floor, 0.5)
    );
}

/// The plugin as the image ships it: the static musl build, which a
/// runtime starts without the dynamic loader (about half a millisecond
/// less per ADD than the glibc build on this machine). The glibc build
/// when that one was not made.
fn plugin_binary(bin: &Path) -> PathBuf {
    let target_dir = bin.parent().expect("target dir");
    let profile = bin.file_name().expect("profile dir");
    let musl = target_dir.join(MUSL_TARGET).join(profile).join("berth");
    if musl.is_file() {
        return musl;
    }
    println!(
        "note: no static plugin at {}; measuring the dynamically linked glibc build \
         (cargo build --release --target {MUSL_TARGET} -p berth-cni makes the static one)",
        musl.display()
    );
    berth_e2e::workspace_bin("berth")
}

/// A file on the disk store's filesystem, written and flushed once per round.
struct SyncProbe {
    file: std::fs::File,
    _path: PathBuf,
}

impl SyncProbe {
    fn new(path: PathBuf) -> Self {
        let mut file = std::fs::File::create(&path).expect("probe file");
        file.write_all(&[0u8; 4096]).expect("write");
        file.sync_all().expect("fsync");
        Self { file, _path: path }
    }

    /// Overwrites the block in place: a data-only flush, no metadata.
    fn one(&mut self) -> u64 {
        let block = [1u8; 4096];
        let start = Instant::now();
        self.file.write_all_at(&block, 0).expect("write");
        self.file.sync_data().expect("fdatasync");
        micros(start.elapsed())
    }
}

fn mean_phases(marks: &[PluginMarks]) -> [f64; 6] {
    let mut sums = [0f64; 6];
    for m in marks {
        for (sum, nanos) in sums.iter_mut().zip(m.phases()) {
            *sum += nanos as f64 / 1000.0;
        }
    }
    sums.map(|s| s / marks.len().max(1) as f64)
}

fn median_phases(marks: &[PluginMarks]) -> [f64; 6] {
    let mut out = [0f64; 6];
    for (index, slot) in out.iter_mut().enumerate() {
        let mut phase: Vec<u128> = marks.iter().map(|m| m.phases()[index]).collect();
        phase.sort_unstable();
        *slot = phase
            .get(phase.len() / 2)
            .map_or(0.0, |n| *n as f64 / 1000.0);
    }
    out
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn sorted(samples: &[u64]) -> Vec<u64> {
    let mut s = samples.to_vec();
    s.sort_unstable();
    s
}

fn at(sorted_us: &[u64], q: f64) -> u64 {
    sorted_us[((sorted_us.len() as f64 - 1.0) * q) as usize]
}
