//! The image the chart names is the one `scripts/build-image` builds, and
//! the chart needs nothing in it but our binaries; the archive tool
//! (`scripts/oci-image.py`) is reproducible and round-trips. (The real
//! musl build is too slow for every test run: these use stand-in files.)

// Tests: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use berth_helm_tests::{repo_root, Helm};
use serde_json::{json, Value};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const BERTHD: &str = "/usr/local/bin/berthd";

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn oci_image(args: &[&str]) -> Command {
    let mut cmd = Command::new("python3");
    cmd.arg(repo_root().join("scripts/oci-image.py")).args(args);
    cmd
}

#[test]
fn the_default_image_is_the_one_build_image_names() {
    let built = run(Command::new(repo_root().join("scripts/build-image")).arg("--print-ref"));
    let expected = format!("ghcr.io/berth-ipam/berth:{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(built.trim(), expected);
    // With a url policy, so both init containers render (`--set` on a
    // list replaces it: the first entry is given again).
    let sets = [
        "policies[0].name=sticky",
        "policies[0].builtin=sticky-statefulset",
        "policies[1].name=extra",
        "policies[1].url=https://example.internal/p.wasm",
        &format!("policies[1].sha256={}", "a".repeat(64)),
    ];
    for helm in Helm::ALL {
        let r = helm.render(&[], &sets);
        let spec = &r.one("DaemonSet")["spec"]["template"]["spec"];
        let containers: Vec<&Value> = ["initContainers", "containers"]
            .iter()
            .flat_map(|list| spec[list].as_array().unwrap())
            .collect();
        assert_eq!(containers.len(), 3, "{helm:?}");
        for c in containers {
            assert_eq!(c["image"], json!(expected), "{helm:?} {}", c["name"]);
            // Every container runs berthd: the image has no shell.
            assert_eq!(c["command"][0], BERTHD, "{helm:?} {}", c["name"]);
        }
    }
}

fn build(dir: &Path, output: &str) -> Value {
    let out = run(&mut oci_image(&[
        "build",
        "--ref",
        "ghcr.io/berth-ipam/berth:0.0.0-test",
        "--output",
        dir.join(output).to_str().unwrap(),
        "--file",
        &format!("{BERTHD}={}", dir.join("berthd").display()),
        "--file",
        &format!("/usr/local/bin/berth={}", dir.join("berth").display()),
        "--entrypoint",
        BERTHD,
        "--cmd-json",
        r#"["--help"]"#,
    ]));
    serde_json::from_str(&out).unwrap()
}

#[test]
fn the_archive_is_reproducible_and_unpacks_to_the_chart_paths() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("berthd"), b"stand-in berthd").unwrap();
    fs::write(dir.path().join("berth"), b"stand-in berth").unwrap();

    let first = build(dir.path(), "a.oci.tar");
    let second = build(dir.path(), "b.oci.tar");
    assert_eq!(first, second);
    let a = fs::read(dir.path().join("a.oci.tar")).unwrap();
    assert_eq!(a, fs::read(dir.path().join("b.oci.tar")).unwrap());

    // The OCI index and docker's manifest.json name the same image.
    let listing = run(Command::new("tar")
        .arg("-xOf")
        .arg(dir.path().join("a.oci.tar"))
        .args(["index.json"]));
    let index: Value = serde_json::from_str(&listing).unwrap();
    let image = &index["manifests"][0];
    assert_eq!(image["digest"], first["manifestDigest"]);
    assert_eq!(
        image["annotations"]["org.opencontainers.image.ref.name"],
        "ghcr.io/berth-ipam/berth:0.0.0-test"
    );
    let docker = run(Command::new("tar")
        .arg("-xOf")
        .arg(dir.path().join("a.oci.tar"))
        .arg("manifest.json"));
    let docker: Value = serde_json::from_str(&docker).unwrap();
    assert_eq!(
        docker[0]["RepoTags"],
        json!(["ghcr.io/berth-ipam/berth:0.0.0-test"])
    );

    let root = dir.path().join("rootfs");
    let config = run(Command::new(repo_root().join("scripts/unpack-image"))
        .arg(dir.path().join("a.oci.tar"))
        .arg(&root));
    let config: Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["Entrypoint"], json!([BERTHD]));
    assert_eq!(config["Cmd"], json!(["--help"]));
    assert_eq!(
        fs::read(root.join("usr/local/bin/berthd")).unwrap(),
        b"stand-in berthd"
    );
    for (path, mode) in [
        ("usr/local/bin/berthd", 0o755),
        ("usr/local/bin/berth", 0o755),
        ("tmp", 0o1777),
        ("etc/passwd", 0o644),
    ] {
        let got = fs::metadata(root.join(path)).unwrap().permissions().mode() & 0o7777;
        assert_eq!(got, mode, "{path}");
    }
}

#[test]
fn a_dynamically_linked_binary_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // python3 itself is dynamically linked on every machine we run on.
    let python = run(Command::new("python3").args(["-c", "import sys; print(sys.executable)"]));
    let out = oci_image(&[
        "build",
        "--ref",
        "x/y:1",
        "--output",
        dir.path().join("x.tar").to_str().unwrap(),
        "--file",
        &format!("{BERTHD}={}", python.trim()),
        "--entrypoint",
        BERTHD,
    ])
    .output()
    .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("dynamically linked"), "{err}");
    assert!(!dir.path().join("x.tar").exists());
}
