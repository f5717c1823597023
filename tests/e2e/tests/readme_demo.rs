//! The README's single-host demo, run verbatim: the shell block under
//! "Drive it with a CNI plugin" is extracted from README.md and executed
//! against a real `berthd` on the sample config, so the first commands a
//! newcomer runs cannot drift from what works.

use berth_e2e::daemon::Daemon;
use std::path::Path;
use std::process::Command;

/// The demo's namespaces, fixed by the README's text.
const DEMO_NETNS: [&str; 2] = ["demo-pod", "demo-host"];

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .expect("workspace root")
}

/// The first ```sh block after the section heading.
fn demo_block(readme: &str) -> String {
    let section = readme
        .split("## Drive it with a CNI plugin")
        .nth(1)
        .expect("README has the CNI demo section");
    let body = section
        .split("```sh\n")
        .nth(1)
        .expect("the section has a sh block");
    body.split("\n```").next().expect("closed block").to_owned()
}

fn remove_demo_netns() {
    for name in DEMO_NETNS {
        // Absent is the normal case: only a failed earlier run leaves them.
        let _ = Command::new("ip").args(["netns", "del", name]).output();
    }
}

#[test]
fn the_readme_single_host_demo_runs_as_written() {
    let root = workspace_root();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let block = demo_block(&readme);
    assert!(block.contains("cni ADD c1"), "unexpected block:\n{block}");

    let sample = std::fs::read(root.join("examples/single-host/berthd.json")).expect("sample");
    let mut config: serde_json::Value = serde_json::from_slice(&sample).expect("sample json");
    // The test must not take the sample's fixed metrics port.
    config
        .as_object_mut()
        .expect("object")
        .remove("metricsAddress");
    let daemon = Daemon::start(config);

    // The README says target/release; the test's binaries are wherever
    // this build put them, so a scratch directory maps one to the other.
    let scratch = tempfile::tempdir().expect("scratch");
    std::fs::create_dir(scratch.path().join("target")).expect("mkdir");
    std::os::unix::fs::symlink(berth_e2e::bin_dir(), scratch.path().join("target/release"))
        .expect("symlink");

    remove_demo_netns();
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &block])
        .current_dir(scratch.path())
        .env("BERTH_SOCKET", &daemon.socket)
        .output()
        .expect("run bash");
    remove_demo_netns();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the README demo failed ({}):\n{stdout}\n{stderr}\n{}",
        out.status,
        daemon.log()
    );
    let first = stdout
        .lines()
        .find_map(|l| l.strip_prefix("test-sts-0 got "))
        .expect("the demo printed the first address");
    assert!(first.starts_with("10.6.168."), "{stdout}");
    assert!(
        stdout.contains(&format!("re-created: {first}")),
        "the re-created pod must get {first} back:\n{stdout}"
    );
    assert!(stdout.contains("retained"), "{stdout}");
}
