//! `berthd explain` against a real daemon on its embedded store: the
//! policy and version that placed an address, the request behind it as a
//! fixture that `berth-policy test` passes (and fails once its expectation
//! is changed), and the refused ADDs with the policy that refused them.
//!
//! Only the daemon's unix socket in a temp directory: no network.

use berth_e2e::daemon::Daemon;
use berth_e2e::raw::{add_request, ask, pod_add, AddRequest, Request, Response};
use berth_proto::DelRequest;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(30);

fn pool() -> Value {
    json!({ "name": "explain-pool", "subnet": "10.61.0.0/24",
            "ips": ["10.61.0.10-10.61.0.40"], "default": true })
}

/// The address an ADD got.
fn add(daemon: &Daemon, request: AddRequest) -> String {
    match ask(&daemon.socket, &Request::Add(request), TIMEOUT) {
        Ok(Response::Added(result)) => result.ips[0].address.addr().to_string(),
        other => panic!("ADD failed: {other:?}\n{}", daemon.log()),
    }
}

fn berthd(daemon: &Daemon, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_berthd"))
        .args(args)
        .arg("--socket")
        .arg(&daemon.socket)
        .output()
        .expect("berthd runs");
    assert!(
        output.status.success(),
        "berthd {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `berth-policy test --component <spec> <fixture>`: the built binary of
/// this workspace (`cargo build -p berth-policy-cli`).
fn berth_policy_test(spec: &str, fixture: &Path) -> Output {
    Command::new(berth_e2e::workspace_bin("berth-policy"))
        .args(["test", "--component", spec])
        .arg(fixture)
        .output()
        .expect("berth-policy runs")
}

#[test]
fn explain_request_round_trips_into_berth_policy_test() {
    let mut daemon = Daemon::start(json!({
        "pools": [pool()],
        "policies": [{ "name": "sticky", "builtin": "sticky-statefulset",
                       "settings": { "stableIdentities": [{ "podNamePattern": "db-*" }] } }]
    }));
    let added = pod_add("c1", "db-0");
    let first = add(&daemon, added.clone());
    // The pod goes and comes back: the policy now picks its held address.
    let del = DelRequest {
        attachment: added.attachment,
        network: added.network,
        pod: added.pod,
    };
    assert!(matches!(
        ask(&daemon.socket, &Request::Del(del), TIMEOUT),
        Ok(Response::Ok)
    ));
    let again = add(&daemon, pod_add("c2", "db-0"));
    assert_eq!(again, first, "sticky keeps db-0's address");

    let shown = berthd(&daemon, &["explain", &again]);
    let text = String::from_utf8_lossy(&shown.stdout);
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        text.contains(&format!("placed-by: sticky (sticky-statefulset {version})")),
        "{text}"
    );

    let printed = berthd(&daemon, &["explain", "--request", &again]);
    let fixture: Value = serde_json::from_slice(&printed.stdout).expect("a JSON fixture");
    assert_eq!(fixture["expect"]["identity"]["key"], "default/db-0");
    assert_eq!(fixture["expect"]["picked"]["address"], again);
    assert_eq!(fixture["bindings"][0]["address"], again);
    let file = daemon.dir.path().join("captured.json");
    std::fs::write(&file, &printed.stdout).expect("write fixture");
    let tested = berth_policy_test("builtin:sticky-statefulset", &file);
    let out = String::from_utf8_lossy(&tested.stdout);
    assert!(tested.status.success(), "{out}");
    assert!(out.contains("1 passed, 0 failed"), "{out}");

    // The same fixture expecting another address fails: the round trip
    // checks the decision, it does not merely parse.
    let mut wrong = fixture.clone();
    wrong["expect"]["picked"]["address"] = Value::from("10.61.0.39");
    let file = daemon.dir.path().join("wrong.json");
    std::fs::write(&file, serde_json::to_vec(&wrong).expect("json")).expect("write");
    let failed = berth_policy_test("builtin:sticky-statefulset", &file);
    let out = String::from_utf8_lossy(&failed.stdout);
    assert!(!failed.status.success(), "{out}");
    assert!(out.contains("picked: expected"), "{out}");

    // An address nobody holds has no request to print.
    let missing = Command::new(env!("CARGO_BIN_EXE_berthd"))
        .args(["explain", "--request", "10.61.0.40", "--socket"])
        .arg(&daemon.socket)
        .output()
        .expect("berthd runs");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no allocation holds 10.61.0.40"));

    // After a restart the record still names the policy that placed it;
    // its version is no longer known (the chain is the one loaded now),
    // and its request was not kept.
    daemon.restart();
    let shown = berthd(&daemon, &["explain", &again]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        text.contains("placed-by: sticky (version not known: placed before the chain"),
        "{text}"
    );
    let gone = Command::new(env!("CARGO_BIN_EXE_berthd"))
        .args(["explain", "--request", &again, "--socket"])
        .arg(&daemon.socket)
        .output()
        .expect("berthd runs");
    assert!(!gone.status.success());
    assert!(String::from_utf8_lossy(&gone.stderr).contains("is not kept"));
}

#[test]
fn refused_adds_are_listed_with_the_policy_that_refused() {
    let daemon = Daemon::start(json!({
        "pools": [pool()],
        "policies": [{ "name": "quota", "builtin": "namespace-quota",
                       "settings": { "maxPerPool": 1 } }]
    }));
    let none = berthd(&daemon, &["explain", "--refusals"]);
    assert!(String::from_utf8_lossy(&none.stdout).contains("no ADD refused"));

    add(&daemon, pod_add("q1", "web-1"));
    let refused = ask(
        &daemon.socket,
        &Request::Add(pod_add("q2", "web-2")),
        TIMEOUT,
    );
    assert!(matches!(refused, Ok(Response::Error(_))), "{refused:?}");
    // No policy refuses this one: the pool does not exist.
    let unknown = ask(
        &daemon.socket,
        &add_request("q3", &["no-such-pool"]),
        TIMEOUT,
    );
    assert!(matches!(unknown, Ok(Response::Error(_))), "{unknown:?}");

    let listed = berthd(&daemon, &["explain", "--refusals", "--json"]);
    let answer: Value = serde_json::from_slice(&listed.stdout).expect("json");
    let refusals = answer["refusals"].as_array().expect("a list");
    assert_eq!(refusals.len(), 2, "{answer}");
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(refusals[0]["pod"], "default/web-2");
    assert_eq!(refusals[0]["kind"], "policy-rejected");
    assert_eq!(
        refusals[0]["policy"],
        format!("quota (namespace-quota {version})")
    );
    assert!(
        refusals[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("already holds 1 of 1 allowed addresses")),
        "{answer}"
    );
    assert_eq!(refusals[1]["container_id"], "q3");
    assert_eq!(refusals[1]["policy"], Value::Null);
    assert!(
        refusals[1]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("no-such-pool")),
        "{answer}"
    );

    let table = berthd(&daemon, &["explain", "--refusals"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains(&format!("refused by: quota (namespace-quota {version})")),
        "{text}"
    );
}
