//! `berth-policy bench` times a policy beside the default chain in one
//! run; `berth-policy run` replays the requests behind a real berthd's
//! allocations (over its socket, or saved as a stream of fixtures)
//! through a candidate chain and reports what would change.
//!
//! berthd runs on its embedded store in a temp directory and is reached
//! only over its unix socket: no network.

mod support;

use berth_e2e::daemon::Daemon;
use berth_e2e::raw::{ask, pod_add, Request, Response};
use serde_json::json;
use std::path::Path;
use std::time::Duration;
use support::{berth_policy, stdout};

/// (median µs, p99 µs) of the row starting with `label`.
fn row(out: &str, label: &str) -> (f64, f64) {
    let line = out
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no {label:?} row in:\n{out}"));
    let numbers: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.strip_suffix("µs"))
        .map(|n| n.parse().expect("a number"))
        .collect();
    assert_eq!(numbers.len(), 2, "{line}");
    (numbers[0], numbers[1])
}

#[test]
fn bench_prints_median_and_p99_beside_the_default_chain() {
    let work = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        work.path().join("pinned.json"),
        r#"{"range": "10.1.0.10-10.1.0.20"}"#,
    )
    .expect("settings");
    let benched = berth_policy(
        work.path(),
        &[
            "bench",
            "builtin:ordinal-pinned",
            "--settings",
            "pinned.json",
            "--iterations",
            "300",
        ],
    );
    assert!(benched.status.success());
    let out = stdout(&benched);
    for label in [
        "candidate: ordinal-pinned",
        "default chain: sticky-statefulset",
    ] {
        let (median, p99) = row(&out, label);
        assert!(median > 0.0 && p99 >= median, "{label}: {out}");
    }
    // Every evaluation of both chains ran and allocated: the timings are
    // of real decisions, not of errors.
    assert_eq!(
        out.matches("300 allocated, 0 rejected, 0 failed").count(),
        2,
        "{out}"
    );
    assert!(out.contains("candidate / default chain"), "{out}");

    // Requests from fixture files instead of the built-in sample.
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/fixtures/keeps-listed-pool.json");
    let benched = berth_policy(
        work.path(),
        &[
            "bench",
            "builtin:sticky-statefulset",
            "--iterations",
            "20",
            "--fixtures",
            fixture.to_str().expect("utf8"),
        ],
    );
    assert!(benched.status.success());
    assert!(stdout(&benched).contains("over 1 request(s)"));

    let missing = berth_policy(work.path(), &["bench", "nothing-here.wasm"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nothing-here.wasm"));
}

fn add(daemon: &Daemon, container: &str, pod: &str) {
    let request = Request::Add(pod_add(container, pod));
    let answer = ask(&daemon.socket, &request, Duration::from_secs(30));
    assert!(
        matches!(answer, Ok(Response::Added(_))),
        "{answer:?}\n{}",
        daemon.log()
    );
}

#[test]
fn run_shows_where_a_candidate_chain_would_decide_differently() {
    let sticky = json!({ "stableIdentities": [{ "podNamePattern": "db-*" }] });
    let mut daemon = Daemon::start(json!({
        "pools": [{ "name": "dry-pool", "subnet": "10.62.0.0/24",
                    "ips": ["10.62.0.10-10.62.0.40"], "default": true }],
        "policies": [{ "name": "sticky", "builtin": "sticky-statefulset", "settings": sticky }]
    }));
    add(&daemon, "c1", "db-0");
    add(&daemon, "c2", "db-1");
    add(&daemon, "c3", "web-1");
    let work = tempfile::tempdir().expect("temp dir");
    std::fs::write(work.path().join("sticky.json"), sticky.to_string()).expect("write");
    std::fs::write(work.path().join("quota.json"), r#"{"maxPerPool": 1}"#).expect("write");
    let socket = daemon.socket.to_str().expect("utf8").to_owned();

    // The live chain itself: nothing changes.
    let same = berth_policy(
        work.path(),
        &[
            "run",
            "builtin:sticky-statefulset",
            "--settings",
            "sticky.json",
            "--against",
            &socket,
        ],
    );
    assert!(same.status.success());
    assert!(stdout(&same).contains("3 evaluated: 0 differ, 3 same; 0 skipped"));

    // Without the stable identities, the db pods lose theirs; the
    // addresses stay (nothing held yet, the allocator chooses the same).
    let loose = berth_policy(
        work.path(),
        &["run", "builtin:sticky-statefulset", "--against", &socket],
    );
    assert_eq!(loose.status.code(), Some(1), "differences exit 1");
    let out = stdout(&loose);
    assert!(
        out.contains("3 evaluated: 2 differ, 1 same; 0 skipped"),
        "{out}"
    );
    assert!(
        out.contains("identity: default/db-1 (keep until retired) → none"),
        "{out}"
    );
    assert!(!out.contains("address:"), "{out}");

    // A quota of one address per namespace would refuse the second and
    // third ADD, in the order they came.
    let chain = [
        "run",
        "builtin:sticky-statefulset",
        "builtin:namespace-quota",
    ];
    let quota_args = [
        &chain[..],
        &[
            "--settings",
            "sticky.json",
            "--settings",
            "quota.json",
            "--against",
            &socket,
        ],
    ]
    .concat();
    let quota = berth_policy(work.path(), &quota_args);
    let out = stdout(&quota);
    assert!(out.contains("3 evaluated: 2 differ, 1 same"), "{out}");
    assert_eq!(
        out.matches("outcome: allocated → rejected (namespace-quota: ")
            .count(),
        2,
        "{out}"
    );

    // The same requests saved as a stream of fixtures (one per line).
    let lines: Vec<String> = daemon
        .allocations()
        .iter()
        .map(|a| {
            let address = a["address"].as_str().expect("address");
            daemon.cli(&["explain", "--request", address]).to_string()
        })
        .collect();
    std::fs::write(work.path().join("stream.jsonl"), lines.join("\n")).expect("write");
    let replayed = berth_policy(
        work.path(),
        &[
            &quota_args[..3],
            &[
                "--settings",
                "sticky.json",
                "--settings",
                "quota.json",
                "--fixtures",
                "stream.jsonl",
            ],
        ]
        .concat(),
    );
    assert_eq!(replayed.status.code(), Some(1));
    assert!(stdout(&replayed).contains("3 evaluated: 2 differ, 1 same; 0 skipped"));

    // A restarted daemon kept no requests: each allocation is skipped,
    // saying why, and nothing is called a difference.
    daemon.restart();
    let after = berth_policy(
        work.path(),
        &["run", "builtin:sticky-statefulset", "--against", &socket],
    );
    assert!(after.status.success());
    let out = stdout(&after);
    assert!(
        out.contains("0 evaluated: 0 differ, 0 same; 3 skipped"),
        "{out}"
    );
    assert!(out.contains("is not kept"), "{out}");
}
