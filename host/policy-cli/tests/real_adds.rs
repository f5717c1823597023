//! The project `berth-policy new` makes, in each language, decides real
//! ADDs: built out of the tree with `berth-policy build`, passing its own
//! fixtures under `berth-policy test`, pinned by the
//! sha256 the build printed, loaded by a real berthd as its only policy,
//! and asked by Debian's bridge plugin exec'ing the real `berth` in network
//! namespaces. The template keeps only the pools its settings list, so an
//! ADD offered pools `a` and `b` lands in `b` only if the policy ran, and
//! one offered `a` alone is refused with the policy's own reason.

use berth_e2e::scenario::{bare, Node, Pod};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Code of a request a policy rejected (cni/src/errors.rs).
const POLICY_REJECTED: u64 = 101;

struct Built {
    component: PathBuf,
    sha256: String,
}

fn new_and_build(work: &Path, name: &str, lang: &str) -> Built {
    let run = |dir: &Path, args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_berth-policy"))
            .args(args)
            .current_dir(dir)
            .output()
            .expect("berth-policy runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "berth-policy {args:?}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("berth-policy {args:?}:\n{stdout}");
        stdout
    };
    run(work, &["new", name, "--lang", lang]);
    let printed = run(&work.join(name), &["build"]);
    // The same project passes its own fixtures in the host runtime before
    // berthd loads it: new, build, test, load and ADD, in one project.
    let tested = run(
        &work.join(name),
        &[
            "test",
            "fixtures/keeps-listed-pool.json",
            "fixtures/rejects-unlisted-pools.json",
        ],
    );
    assert!(tested.contains("2 passed, 0 failed"), "{tested}");
    let field = |prefix: &str| {
        printed
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::trim)
            .unwrap_or_else(|| panic!("build prints {prefix:?}: {printed}"))
            .to_owned()
    };
    Built {
        // Printed relative to the project for some languages.
        component: work.join(name).join(field("component ")),
        sha256: field("sha256 "),
    }
}

fn decides_real_adds(lang: &str, subnet: u8) {
    let work = tempfile::tempdir().expect("temp dir");
    let name = format!("keep-b-{lang}");
    let built = new_and_build(work.path(), &name, lang);
    let node = Node::start(json!({
        "pools": [
            { "name": "a", "subnet": format!("10.{subnet}.1.0/24"),
              "ips": [format!("10.{subnet}.1.10-10.{subnet}.1.20")] },
            { "name": "b", "subnet": format!("10.{subnet}.2.0/24"),
              "ips": [format!("10.{subnet}.2.10-10.{subnet}.2.20")] },
        ],
        "policies": [{
            "name": name,
            "file": built.component,
            "sha256": built.sha256,
            "settings": { "pools": ["b"] },
            "failurePolicy": "Fail"
        }]
    }));

    // Offered a first: the policy keeps b.
    let both = node.bridge_config(&["a", "b"]);
    let address = node.add("bridge", &Pod::new("web-1"), &both);
    assert!(
        bare(&address).starts_with(&format!("10.{subnet}.2.")),
        "{lang}: {address} is not from pool b"
    );
    let explained = node.daemon.cli(&["explain", bare(&address)]).to_string();
    assert!(
        explained.contains(&name),
        "{lang}: the trace names the policy: {explained}"
    );

    // Offered only a: refused with the policy's reason, nothing held.
    let only_a = node.bridge_config(&["a"]);
    let refused = node.call("bridge", "ADD", &Pod::new("web-2"), &only_a);
    assert_eq!(
        refused.code(),
        POLICY_REJECTED,
        "{lang}: {}",
        refused.stdout
    );
    assert!(
        refused.stdout.contains("none of"),
        "{lang}: the policy's reason reaches the runtime: {}",
        refused.stdout
    );
    assert_eq!(node.daemon.allocations().len(), 1, "{lang}");
}

#[test]
fn a_rust_project_decides_real_adds() {
    decides_real_adds("rust", 63);
}

#[test]
fn a_python_project_decides_real_adds() {
    decides_real_adds("python", 64);
}

#[test]
fn a_js_project_decides_real_adds() {
    decides_real_adds("js", 65);
}
