//! A fake berthd and a runner for the real `berth` binary.
//!
//! The fake daemon is a thread serving a unix socket in a temp dir. It
//! speaks berth-proto frames, answers with a canned function and records
//! every request it received, so tests check both what the binary printed
//! and what it asked.

#![allow(dead_code)] // Each test binary uses a different part of this.

use berth_proto::{read_frame, write_frame, Attachment, PodRef, Request, Response};
use serde_json::Value;
use std::io::Write;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

pub struct FakeDaemon {
    // Held so the socket's directory lives as long as the daemon.
    _dir: tempfile::TempDir,
    pub socket: PathBuf,
    received: Arc<Mutex<Vec<Request>>>,
}

impl FakeDaemon {
    pub fn start(answer: impl Fn(&Request) -> Response + Send + 'static) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("berth.sock");
        let listener = UnixListener::bind(&socket).expect("bind");
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        // The thread ends with the test process; each accept serves one
        // request, as berthd does.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let Ok(request) = read_frame::<Request>(&mut stream) else {
                    continue;
                };
                let response = answer(&request);
                log.lock().expect("log").push(request);
                let _ = write_frame(&mut stream, &response);
            }
        });
        FakeDaemon {
            _dir: dir,
            socket,
            received,
        }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.received.lock().expect("log").clone()
    }

    /// The single request the binary sent.
    pub fn only_request(&self) -> Request {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "{requests:?}");
        requests.into_iter().next().expect("one request")
    }
}

pub struct Run {
    pub success: bool,
    pub stdout: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {:?}", self.stdout))
    }

    /// Asserts the run failed with a CNI error of `code` and returns it.
    pub fn error(&self, code: u64) -> Value {
        assert!(!self.success, "expected failure, got {:?}", self.stdout);
        let json = self.json();
        assert_eq!(json["code"], code, "{json}");
        assert!(
            json["msg"].as_str().is_some_and(|m| !m.is_empty()),
            "{json}"
        );
        json
    }
}

/// Runs the built `berth` with exactly `env` (nothing inherited, so a
/// stray BERTH_SOCKET cannot leak in) and `stdin`.
pub fn run_berth(env: &[(&str, &str)], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_berth"))
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn berth");
    let mut input = child.stdin.take().expect("stdin");
    // The binary may answer (say, about a missing CNI_COMMAND) without
    // reading stdin; a closed pipe is then expected, as Go's os/exec,
    // which runtimes use, also tolerates.
    if let Err(e) = input.write_all(stdin.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
    }
    drop(input);
    let output = child.wait_with_output().expect("wait");
    Run {
        success: output.status.success(),
        stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
    }
}

/// The environment of a Kubernetes ADD/DEL/CHECK for container `c1`, eth0.
pub fn attachment_env(verb: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("CNI_COMMAND", verb),
        ("CNI_CONTAINERID", "c1"),
        ("CNI_IFNAME", "eth0"),
        ("CNI_NETNS", "/run/netns/test"),
        ("CNI_PATH", "/opt/cni/bin"),
        (
            "CNI_ARGS",
            "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=test-sts-0;\
             K8S_POD_INFRA_CONTAINER_ID=c1;K8S_POD_UID=uid-0",
        ),
    ]
}

/// The attachment [`attachment_env`] names.
pub fn env_attachment() -> Attachment {
    Attachment {
        container_id: "c1".into(),
        ifname: "eth0".into(),
    }
}

/// The pod [`attachment_env`]'s CNI_ARGS name.
pub fn env_pod() -> PodRef {
    PodRef {
        namespace: "default".into(),
        name: "test-sts-0".into(),
        uid: "uid-0".into(),
    }
}

/// A bridge network config whose ipam points at `socket`.
pub fn netconf(version: &str, socket: &Path) -> Value {
    serde_json::json!({
        "cniVersion": version,
        "name": "test-net",
        "type": "bridge",
        "bridge": "br0",
        "isGateway": true,
        "ipam": {
            "type": "berth",
            "socket": socket,
            "pools": ["test-ippool"],
            "timeoutMs": 2000
        }
    })
}
