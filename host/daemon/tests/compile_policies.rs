//! `berthd compile-policies`, the child `serve` and a reload run before
//! loading a chain that would compile (ARCHITECTURE.md, "Policy runtime"):
//! it fills the policy cache and exits, so the daemon only maps artefacts;
//! a restart with the cache filled runs no child; a bad config makes it
//! fail, and a daemon whose child failed still serves.

use berth_e2e::daemon::Daemon;
use berth_e2e::raw::{add_request, ask, Response};
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn compile(config: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_berthd"))
        .args(["compile-policies", "--config"])
        .arg(config)
        .output()
        .expect("berthd runs")
}

fn artefacts(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| entries.count())
}

#[test]
fn compile_policies_fills_the_cache_and_refuses_a_bad_chain() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join("cache");
    let config = dir.path().join("berthd.json");
    let write = |policies: serde_json::Value| {
        let text = json!({
            "socketPath": dir.path().join("berth.sock"),
            "dataDir": dir.path().join("data"),
            "policyCacheDir": cache,
            "pools": [{ "name": "p", "subnet": "10.66.0.0/24", "default": true }],
            "policies": policies,
        });
        std::fs::write(&config, text.to_string()).expect("config");
    };
    write(json!([
        { "name": "sticky", "builtin": "sticky-statefulset" },
        { "name": "quota", "builtin": "namespace-quota", "settings": { "maxPerPool": 10 } },
    ]));
    let out = compile(&config);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(artefacts(&cache), 2, "one artefact per module");
    assert!(
        !dir.path().join("data/berth.redb").exists(),
        "compiling opens no store"
    );

    write(json!([{ "name": "quota", "builtin": "namespace-quota",
                   "settings": { "maxPerPool": "many" } }]));
    let out = compile(&config);
    assert!(!out.status.success(), "bad settings fail the child");
}

#[test]
fn a_daemon_whose_compile_child_fails_still_compiles_and_serves() {
    // A cache directory under a file: the child cannot write it, and
    // neither can the daemon, which then compiles in memory.
    let base = tempfile::tempdir().expect("temp dir");
    let blocker = base.path().join("not-a-dir");
    std::fs::write(&blocker, b"").expect("file");
    let daemon = Daemon::start(json!({
        "policyCacheDir": blocker.join("cache"),
        "pools": [{ "name": "p", "subnet": "10.66.1.0/24", "default": true }],
        "policies": [{ "name": "sticky", "builtin": "sticky-statefulset" }],
    }));
    match ask(
        &daemon.socket,
        &add_request("c1", &[]),
        Duration::from_secs(30),
    ) {
        Ok(Response::Added(result)) => {
            assert_eq!(result.ips[0].address.addr().to_string(), "10.66.1.1");
        }
        other => panic!("ADD failed: {other:?}\n{}", daemon.log()),
    }
}

/// What berthd logs when its child compiled the chain.
const COMPILED_IN_CHILD: &str = "policies compiled in a child process";

#[test]
fn the_child_runs_only_when_a_module_would_be_compiled() {
    let mut daemon = Daemon::start(json!({
        "pools": [{ "name": "p", "subnet": "10.66.2.0/24", "default": true }],
        "policies": [{ "name": "sticky", "builtin": "sticky-statefulset" }],
    }));
    assert_eq!(
        daemon.log().matches(COMPILED_IN_CHILD).count(),
        1,
        "{}",
        daemon.log()
    );
    // The same data directory: the artefact is there, nothing to compile.
    daemon.restart();
    match ask(
        &daemon.socket,
        &add_request("c1", &[]),
        Duration::from_secs(30),
    ) {
        Ok(Response::Added(_)) => {}
        other => panic!("ADD after restart failed: {other:?}\n{}", daemon.log()),
    }
    assert_eq!(
        daemon.log().matches(COMPILED_IN_CHILD).count(),
        1,
        "{}",
        daemon.log()
    );
}
