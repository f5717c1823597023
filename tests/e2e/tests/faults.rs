//! berthd on a bad day: a full disk, a truncated store, requests that
//! outlive their deadline, an internal panic, and configs that would have
//! it destroy a file or misbehave. Each case reproduces a failure seen from
//! outside (issue 9) and checks the address book stays exact.

use berth_e2e::cni::{exec, pod_args, CniCall, CniOutput};
use berth_e2e::daemon::{Daemon, Launch};
use berth_e2e::eventually;
use berth_e2e::http::{free_port, get as http_get};
use berth_e2e::raw::{add_request, ask, Response};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn config(pools: Value) -> Value {
    json!({ "pools": pools, "policies": [] })
}

fn lab_pool(subnet: &str) -> Value {
    json!([{ "name": "lab", "subnet": subnet, "default": true }])
}

fn ipam(daemon: &Daemon, command: &str, container: &str) -> CniOutput {
    let config = json!({
        "cniVersion": "1.1.0",
        "name": "faults",
        "ipam": { "type": "berth", "socket": daemon.socket }
    });
    let call = CniCall {
        command,
        container_id: container,
        netns: None,
        ifname: "eth0",
        args: &pod_args("default", &format!("pod-{container}"), container),
    };
    exec(
        &berth_e2e::workspace_bin("berth"),
        None,
        "/nonexistent",
        &call,
        &config,
    )
}

/// A 4 MiB tmpfs of the test's own, unmounted on drop.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "mounting a tmpfs needs root");
        Tmpfs(dir)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg("-l")
            .arg(self.0.path())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("could not unmount {}", self.0.path().display());
        }
    }
}

fn fill(path: &Path) {
    let mut file = std::fs::File::create(path).expect("filler");
    let block = vec![0u8; 16 * 1024];
    while file
        .write_all(&block)
        .and_then(|()| file.sync_data())
        .is_ok()
    {}
}

#[test]
fn a_full_disk_fails_cleanly_reports_unhealthy_and_recovers_without_a_restart() {
    let fs = Tmpfs::mount();
    let port = free_port();
    let mut cfg = config(lab_pool("10.51.0.0/22"));
    cfg["metricsAddress"] = json!(format!("127.0.0.1:{port}"));
    let daemon = Daemon::start_in(cfg, fs.0.path());
    ipam(&daemon, "ADD", "before").ok();
    let filler = fs.0.path().join("filler");
    fill(&filler);

    let mut failed = None;
    for i in 0..500 {
        let out = ipam(&daemon, "ADD", &format!("full-{i}"));
        if !out.success {
            failed = Some(out.code());
            break;
        }
    }
    assert_eq!(failed, Some(105), "an ADD on a full disk fails as internal");
    assert_eq!(
        ipam(&daemon, "STATUS", "").code(),
        50,
        "STATUS says not ready"
    );
    eventually("/healthz says unhealthy", 10, || {
        http_get(port, "/healthz").contains("503")
    });

    std::fs::remove_file(&filler).expect("free space");
    ipam(&daemon, "STATUS", "").ok();
    ipam(&daemon, "ADD", "after").ok();
    eventually("/healthz ok again", 10, || {
        http_get(port, "/healthz").contains("200 OK")
    });
    let pods: BTreeSet<String> = daemon
        .allocations()
        .iter()
        .filter_map(|a| a["pod"].as_str().map(str::to_owned))
        .collect();
    assert!(pods.contains("default/pod-before") && pods.contains("default/pod-after"));
}

/// Runs `berthd serve` to its exit; returns (success, log).
fn serve_once(config_path: &Path) -> (bool, String) {
    let out = Command::new(berth_e2e::workspace_bin("berthd"))
        .args(["serve", "--config"])
        .arg(config_path)
        .output()
        .expect("run berthd");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_emptied_store_file_is_refused_at_start() {
    let mut daemon = Daemon::start(config(lab_pool("10.52.0.0/24")));
    ipam(&daemon, "ADD", "c1").ok();
    daemon.kill9();
    let store = daemon.dir.path().join("data/berth.redb");
    std::fs::write(&store, b"").expect("truncate");
    let (ok, log) = serve_once(&daemon.config_path);
    assert!(!ok, "started on an empty store:\n{log}");
    assert!(log.contains("empty"), "{log}");
    assert_eq!(std::fs::metadata(&store).expect("stat").len(), 0);
}

#[test]
fn a_request_past_its_deadline_is_never_executed() {
    let mut cfg = config(lab_pool("10.53.0.0/22"));
    cfg["limits"] = json!({ "requestTimeoutMs": 300, "requestsInFlightMax": 1 });
    let daemon = Daemon::start(cfg);
    let socket = daemon.socket.clone();
    // The client waits as long as the plugin would (the daemon's timeout)
    // plus a margin for a request that started just before its deadline.
    let answers: Vec<(String, Result<Response, String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..400)
            .map(|i| {
                let socket = socket.clone();
                s.spawn(move || {
                    let id = format!("d{i}");
                    let answer = ask(
                        &socket,
                        &add_request(&id, &["lab"]),
                        Duration::from_millis(1_300),
                    );
                    (id, answer)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    std::thread::sleep(Duration::from_secs(2));
    let told_ok: BTreeSet<String> = answers
        .iter()
        .filter(|(_, a)| matches!(a, Ok(Response::Added(_))))
        .map(|(id, _)| format!("default/pod-{id}"))
        .collect();
    let refused = answers.len() - told_ok.len();
    let held: BTreeSet<String> = daemon
        .allocations()
        .iter()
        .filter_map(|a| a["pod"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        held, told_ok,
        "addresses held for requests the client saw fail ({refused} refused)"
    );
    assert!(
        refused > 0,
        "the load never passed a deadline; the test proved nothing"
    );
}

#[test]
fn a_panic_in_a_request_stops_berthd_and_it_restarts_from_its_store() {
    let launch = Launch {
        env: vec![("BERTH_FAULT_PANIC_ON_CONTAINER".into(), "boom".into())],
        wrapper: vec![],
    };
    let mut daemon = Daemon::start_with(
        config(lab_pool("10.54.0.0/24")),
        &std::env::temp_dir(),
        launch,
    );
    let kept = ipam(&daemon, "ADD", "c1").ok();
    assert_eq!(
        ipam(&daemon, "ADD", "boom").code(),
        11,
        "the plugin saw a hang-up"
    );
    assert_eq!(
        daemon.wait_exit(10),
        Some(false),
        "berthd kept running after a panic"
    );
    assert!(
        daemon.log().contains("aborting so berthd restarts"),
        "{}",
        daemon.log()
    );
    daemon.respawn();
    let again = ipam(&daemon, "ADD", "c1").ok();
    assert_eq!(again["ips"], kept["ips"], "the store kept the allocation");
}

#[test]
fn a_socket_path_naming_a_file_is_refused_and_the_file_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let precious = dir.path().join("precious.db");
    std::fs::write(&precious, b"do not delete").expect("write");
    let mut cfg = config(lab_pool("10.55.0.0/24"));
    cfg["socketPath"] = json!(precious);
    cfg["dataDir"] = json!(dir.path().join("data"));
    let config_path = dir.path().join("berthd.json");
    std::fs::write(&config_path, cfg.to_string()).expect("config");
    let (ok, log) = serve_once(&config_path);
    assert!(!ok);
    assert!(log.contains("not a socket"), "{log}");
    assert_eq!(std::fs::read(&precious).expect("kept"), b"do not delete");
}

#[test]
fn bad_configs_are_refused_before_anything_is_created() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, cfg: &Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, cfg.to_string()).expect("config");
        path
    };
    let data = dir.path().join("data");
    let socket = dir.path().join("s.sock");
    let base = |pools: Value| json!({ "socketPath": socket, "dataDir": data, "pools": pools });

    // Overlapping pools: check-config and serve agree, and serve creates
    // no store file.
    let overlap = write(
        "overlap.json",
        &base(json!([
            { "name": "a", "subnet": "10.56.0.0/24" },
            { "name": "b", "subnet": "10.56.0.0/25" }
        ])),
    );
    let check = Command::new(berth_e2e::workspace_bin("berthd"))
        .args(["check-config", "--config"])
        .arg(&overlap)
        .output()
        .expect("check-config");
    assert!(
        !check.status.success(),
        "check-config passed overlapping pools"
    );
    assert!(String::from_utf8_lossy(&check.stderr).contains("overlaps"));
    let (ok, log) = serve_once(&overlap);
    assert!(!ok && log.contains("overlaps"), "{log}");
    assert!(
        !data.join("berth.redb").exists(),
        "serve created the store first"
    );

    // A zero request timeout would drop every request.
    let mut zero = base(lab_pool("10.56.0.0/24"));
    zero["limits"] = json!({ "requestTimeoutMs": 0 });
    let (ok, log) = serve_once(&write("zero.json", &zero));
    assert!(!ok && log.contains("requestTimeoutMs"), "{log}");

    // A pool spanning everything would hand out loopback addresses.
    let (ok, log) = serve_once(&write("all.json", &base(lab_pool("0.0.0.0/0"))));
    assert!(!ok && log.contains("no host may be given"), "{log}");
}

#[test]
fn oversized_ids_are_refused_and_reload_says_what_needs_a_restart() {
    let daemon = Daemon::start(config(lab_pool("10.57.0.0/24")));
    let mut request = add_request("c1", &["lab"]);
    if let berth_e2e::raw::Request::Add(add) = &mut request {
        add.attachment.container_id = "x".repeat(60_000);
    }
    match ask(&daemon.socket, &request, Duration::from_secs(10)) {
        Ok(Response::Error(e)) => assert!(e.message.contains("container id"), "{}", e.message),
        other => panic!("a 60,000-byte container id was not refused: {other:?}"),
    }
    assert!(daemon.allocations().is_empty());

    let mut changed = config(lab_pool("10.57.0.0/24"));
    changed["metricsAddress"] = json!("127.0.0.1:1");
    daemon.rewrite_config(changed);
    let answer = daemon.cli(&["reload"]);
    assert_eq!(
        answer["needs_restart"],
        json!(["metricsAddress"]),
        "{answer}"
    );
}
