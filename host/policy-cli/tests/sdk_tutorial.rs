//! `sdk/README.md` is a tutorial a reader runs top to bottom outside this
//! repository; this test runs its shell blocks as written, in a temp dir:
//! "Start with `berth-policy`" for a Rust project, then the "Python" and
//! "JavaScript" blocks in projects of those languages. A command the
//! README changes, renames or breaks fails here.
//!
//! Three things are done for the reader, each because a test cannot do
//! it the reader's way: `cargo install --path host/policy-cli` is replaced
//! by putting this build of `berth-policy` first on PATH (installing would
//! rebuild it); `scripts/…` runs from this checkout (the reader is in a
//! Berth checkout there); and `/run/berth/berth.sock` is the socket of a
//! berthd this test starts.

use berth_e2e::daemon::Daemon;
use berth_e2e::scenario::seed_config;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The first ```sh block after the heading `heading`.
fn block(readme: &str, heading: &str) -> String {
    let after = readme
        .split_once(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("sdk/README.md has no heading {heading:?}"))
        .1;
    let start = after.find("```sh\n").expect("a sh block") + "```sh\n".len();
    let end = after[start..].find("```").expect("the block ends") + start;
    after[start..end].to_owned()
}

/// Runs `script` with bash in `dir`, each command echoed; panics with the
/// output when a command fails.
fn run(dir: &Path, script: &str, socket: &Path) {
    let bin = Path::new(env!("CARGO_BIN_EXE_berth-policy"))
        .parent()
        .expect("bin dir")
        .to_owned();
    let script = script
        .replace(
            "cargo install --path host/policy-cli",
            "command -v berth-policy",
        )
        .replace("/run/berth/berth.sock", &socket.display().to_string());
    // Only the checkout's own `scripts/…` (a command at a line's start),
    // not a project's (`berth-policy/scripts/types.js`).
    let checkout_scripts = format!("{}/scripts/", root().display());
    let script: String = script
        .lines()
        .map(|line| match line.strip_prefix("scripts/") {
            Some(rest) => format!("{checkout_scripts}{rest}\n"),
            None => format!("{line}\n"),
        })
        .collect();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-euxo", "pipefail", "-c", &script])
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .expect("bash runs");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    assert!(out.status.success(), "the tutorial failed:\n{text}");
}

#[test]
fn the_sdk_tutorial_runs_as_written_for_each_language() {
    let readme = std::fs::read_to_string(root().join("sdk/README.md")).expect("sdk/README.md");
    let daemon = Daemon::start(seed_config(vec![]));
    let work = tempfile::tempdir().expect("temp dir");

    let start = block(&readme, "## Start with `berth-policy`");
    assert!(start.contains("berth-policy new my-policy --lang rust"));
    run(work.path(), &start, &daemon.socket);

    for (heading, lang) in [("## Python", "python"), ("## JavaScript", "js")] {
        let dir = work.path().join(lang);
        std::fs::create_dir(&dir).expect("dir");
        let steps = block(&readme, heading);
        assert!(steps.starts_with("cd my-policy\n"), "{steps}");
        let script = format!("berth-policy new my-policy --lang {lang}\n{steps}");
        run(&dir, &script, &daemon.socket);
    }
}
