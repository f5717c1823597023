//! Daemon memory (BRIEF §5: ≤ 64 MiB RSS with 10 policies loaded and
//! 100,000 allocations). `cargo bench -p berth-daemon --bench memory`.
//!
//! Runs the real `berthd serve` on its embedded store (data directory on
//! tmpfs when `/dev/shm` exists, so 100,000 durable commits take a minute,
//! not ten; the page cache of the file is not the daemon's RSS either way)
//! and drives it over its socket, as the CNI plugin would. Prints RSS and
//! peak RSS (`VmHWM`) beside two baselines measured in the same run: the
//! same daemon idle with the default one-policy chain, and idle with the
//! ten-policy chain.

#[path = "support/rss.rs"]
mod rss;

use berth_proto::{AddRequest, Attachment, PodRef, Request, Response};
use serde_json::{json, Value};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ALLOCATIONS: usize = 100_000;
const CLIENTS: usize = 4;
const TARGET_MIB: f64 = 64.0;

/// Ten policies: every built-in, several times under different names, each
/// configured so it runs its real logic on every request.
fn ten_policies() -> Value {
    let quota = json!({ "maxPerPool": 1_000_000 });
    let labels =
        json!({ "rules": [{ "selector": { "matchLabels": { "app": "db" } }, "pools": ["big"] }] });
    let pinned = json!({ "range": "10.64.0.10-10.64.0.200" });
    let mut list = vec![json!({ "name": "sticky", "builtin": "sticky-statefulset",
        "settings": { "stableIdentities": [{ "podNamePattern": "sts-*" }] } })];
    for i in 0..3 {
        list.push(json!({ "name": format!("quota-{i}"), "builtin": "namespace-quota", "settings": quota }));
        list.push(
            json!({ "name": format!("labels-{i}"), "builtin": "label-pool", "settings": labels }),
        );
        list.push(json!({ "name": format!("pinned-{i}"), "builtin": "ordinal-pinned", "settings": pinned }));
    }
    assert_eq!(list.len(), 10);
    Value::Array(list)
}

fn default_policies() -> Value {
    json!([{ "name": "sticky", "builtin": "sticky-statefulset" }])
}

struct Daemon {
    child: Child,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Daemon {
    fn start(policies: Value) -> Self {
        let base = if Path::new("/dev/shm").is_dir() {
            tempfile::tempdir_in("/dev/shm")
        } else {
            tempfile::tempdir()
        };
        let dir = base.expect("tempdir");
        let socket = dir.path().join("berth.sock");
        let config = json!({
            "socketPath": socket, "dataDir": dir.path().join("data"),
            "pools": [{ "name": "big", "subnet": "10.64.0.0/12", "default": true }],
            "policies": policies,
        });
        let config_path = dir.path().join("berthd.json");
        std::fs::write(&config_path, config.to_string()).expect("config");
        let child = Command::new(env!("CARGO_BIN_EXE_berthd"))
            .args(["serve", "--config"])
            .arg(&config_path)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn berthd");
        let started = Instant::now();
        while UnixStream::connect(&socket).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "berthd did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            socket,
            _dir: dir,
        }
    }

    /// (VmRSS, VmHWM) in MiB.
    fn rss_mib(&self) -> (f64, f64) {
        rss::rss_mib(self.child.id())
    }

    fn add(&self, n: usize) {
        // A fifth of the pods are StatefulSet-like (sticky keeps them).
        let name = if n.is_multiple_of(5) {
            format!("sts-{n}")
        } else {
            format!("web-{n}")
        };
        let request = Request::Add(AddRequest {
            attachment: Attachment {
                container_id: format!("{n:064x}"),
                ifname: "eth0".into(),
            },
            network: "bench".into(),
            pod: PodRef {
                namespace: format!("ns-{}", n % 50),
                name,
                uid: format!("00000000-0000-4000-8000-{n:012x}"),
            },
            pools: vec![],
            requested_ips: vec![],
            clean_gateway: None,
            labels: Vec::new(),
        });
        let mut stream = UnixStream::connect(&self.socket).expect("connect");
        berth_proto::write_frame(&mut stream, &request).expect("send");
        match berth_proto::read_frame(&mut stream).expect("answer") {
            Response::Added(_) => {}
            other => panic!("ADD {n} failed: {other:?}"),
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // Bench teardown: nothing to keep, a failed kill means it is gone.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn report(label: &str, (rss, hwm): (f64, f64)) {
    println!("{label:<52} RSS {rss:>7.1} MiB   peak {hwm:>7.1} MiB");
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let idle_default = Daemon::start(default_policies());
    std::thread::sleep(Duration::from_millis(500));
    report(
        "baseline: idle, default chain (1 policy)",
        idle_default.rss_mib(),
    );
    drop(idle_default);

    let daemon = Daemon::start(ten_policies());
    std::thread::sleep(Duration::from_millis(500));
    let idle = daemon.rss_mib();
    report("baseline: idle, 10 policies", idle);

    let started = Instant::now();
    std::thread::scope(|s| {
        for client in 0..CLIENTS {
            let daemon = &daemon;
            s.spawn(move || {
                for n in (client..ALLOCATIONS).step_by(CLIENTS) {
                    daemon.add(n);
                }
            });
        }
    });
    let elapsed = started.elapsed();
    let loaded = daemon.rss_mib();
    report(&format!("10 policies, {ALLOCATIONS} allocations"), loaded);
    println!(
        "  {:.0} bytes of RSS per allocation; {ALLOCATIONS} ADDs in {elapsed:.1?} ({:.0} µs each, {CLIENTS} clients)",
        (loaded.0 - idle.0) * 1024.0 * 1024.0 / ALLOCATIONS as f64,
        elapsed.as_micros() as f64 / ALLOCATIONS as f64
    );
    let verdict = if loaded.1 <= TARGET_MIB {
        "met"
    } else {
        "MISSED"
    };
    println!("  target ≤ {TARGET_MIB} MiB peak: {verdict}");
}
