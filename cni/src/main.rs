//! `berth`, the binary a CNI configuration names in `ipam.type`.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let lookup = |var: &str| std::env::var_os(var);
    let stdin = std::io::stdin();
    // Runtimes always pipe stdin. Someone typing `CNI_COMMAND=VERSION
    // berth` at a shell gets an answer instead of a hang.
    let outcome = if stdin.is_terminal() {
        berth_cni::plugin::run(&lookup, std::io::empty())
    } else {
        berth_cni::plugin::run(&lookup, stdin.lock())
    };
    if let Some(text) = outcome.stdout {
        let mut out = std::io::stdout().lock();
        // If stdout is gone there is no one left to tell; the exit code
        // still says whether the verb succeeded.
        let _ = out.write_all(text.as_bytes());
        let _ = out.write_all(b"\n");
        let _ = out.flush();
    }
    if outcome.success {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
