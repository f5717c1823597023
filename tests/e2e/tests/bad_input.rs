//! Hostile and broken input: each case is a clear CNI error and changes
//! nothing in the daemon's state.

use berth_e2e::cni::pod_args;
use berth_e2e::scenario::{seed_config, Node};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::process::{Command, Stdio};

fn ipam_config(node: &Node, pools: &[&str]) -> Value {
    json!({
        "cniVersion": "1.1.0",
        "name": "bad-input",
        "ipam": { "type": "berth", "socket": node.daemon.socket, "pools": pools }
    })
}

/// Runs `berth` with raw stdin and the given env only.
fn raw_berth(env: &[(&str, &str)], stdin: &[u8]) -> (bool, Value) {
    let mut child = Command::new(berth_e2e::workspace_bin("berth"))
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn berth");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("stdin write");
    let out = child.wait_with_output().expect("berth output");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.success(), json)
}

#[test]
fn every_bad_input_is_a_clear_error_and_changes_nothing() {
    let node = Node::start(seed_config(vec![]));
    let good = ipam_config(&node, &["test-ippool"]);
    let args = pod_args("default", "p", "u");
    node.ipam("ADD", "keep-1", &args, &good).ok();
    let before = node.daemon.allocations();

    // Malformed stdin → 6.
    let env = [
        ("CNI_COMMAND", "ADD"),
        ("CNI_CONTAINERID", "c"),
        ("CNI_IFNAME", "eth0"),
        ("CNI_NETNS", "/x"),
        ("CNI_PATH", "/x"),
    ];
    let (ok, err) = raw_berth(&env, b"{not json");
    assert!(!ok);
    assert_eq!(err["code"], 6, "{err}");
    assert!(err["msg"].as_str().is_some_and(|m| !m.is_empty()), "{err}");

    // Missing CNI_CONTAINERID → 4.
    let env = [
        ("CNI_COMMAND", "ADD"),
        ("CNI_IFNAME", "eth0"),
        ("CNI_NETNS", "/x"),
        ("CNI_PATH", "/x"),
    ];
    let (ok, err) = raw_berth(&env, &serde_json::to_vec(&good).expect("json"));
    assert!(!ok);
    assert_eq!(err["code"], 4, "{err}");

    // Unknown pool → 7.
    let unknown = ipam_config(&node, &["no-such-pool"]);
    assert_eq!(node.ipam("ADD", "c-unknown", &args, &unknown).code(), 7);

    // Exhausted pool: fill the 10 addresses, then one more fails.
    for i in 1..10 {
        node.ipam(
            "ADD",
            &format!("fill-{i}"),
            &pod_args("default", &format!("f{i}"), "u"),
            &good,
        )
        .ok();
    }
    let full = node.daemon.allocations();
    assert_eq!(full.len(), 10);
    let exhausted = node.ipam("ADD", "one-too-many", &pod_args("default", "x", "u"), &good);
    assert_eq!(exhausted.code(), 100, "{}", exhausted.stdout);
    // The message says whether releasing retained addresses would help.
    assert!(
        exhausted.stdout.contains("0 of them are retained")
            && exhausted.stdout.contains("berthd release"),
        "{}",
        exhausted.stdout
    );
    assert_eq!(node.daemon.allocations(), full);

    // An oversized socket message is refused before it is read.
    let mut stream = std::os::unix::net::UnixStream::connect(&node.daemon.socket).expect("connect");
    stream
        .write_all(&(10u32 * 1024 * 1024).to_be_bytes())
        .expect("write len");
    // The daemon may already have answered and closed: a failed write of
    // the body is part of what is tested, not an error.
    let _ = stream.write_all(&[b'x'; 4096]);
    let mut answer = Vec::new();
    // The daemon answers with an error frame and closes; a reset is fine too.
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    assert!(text.contains("exceeds the limit"), "{text}");
    assert_eq!(node.daemon.allocations(), full);

    // Nothing above touched the first allocation.
    assert!(before.iter().all(|a| full.contains(a)));
}

#[test]
fn daemon_down_is_try_again_later_and_status_fifty() {
    let mut node = Node::start(seed_config(vec![]));
    let good = ipam_config(&node, &["test-ippool"]);
    assert!(node.ipam("STATUS", "", "", &good).success);
    node.daemon.kill9();
    assert_eq!(
        node.ipam("ADD", "c1", &pod_args("default", "p", "u"), &good)
            .code(),
        11
    );
    assert_eq!(node.ipam("STATUS", "", "", &good).code(), 50);
}
