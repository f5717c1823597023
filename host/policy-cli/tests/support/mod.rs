//! What the CLI's tests share: running the built `berth-policy` in a
//! directory, its whole output echoed so a failing test shows it.

use std::path::Path;
use std::process::{Command, Output};

/// `berth-policy <args>` run in `dir`; stdout and stderr go to the test's
/// output as well.
pub fn berth_policy(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_berth-policy"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("berth-policy runs");
    eprintln!(
        "berth-policy {args:?}:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}
