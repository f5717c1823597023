//! `berth`, the binary a CNI configuration names in `ipam.type`.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

/// Set (non-empty) to have the plugin print, on stderr, the wall-clock
/// time at which each step of the invocation ended. Off in production;
/// the CNI bench reads it to split an ADD into phases.
const PHASE_LOG_VAR: &str = "BERTH_PHASE_LOG";

fn main() -> ExitCode {
    let mut marks = PhaseMarks::new(std::env::var_os(PHASE_LOG_VAR).is_some_and(|v| !v.is_empty()));
    marks.mark("start");
    let lookup = |var: &str| std::env::var_os(var);
    let stdin = std::io::stdin();
    let mut mark = |step| marks.mark(step);
    // Runtimes always pipe stdin. Someone typing `CNI_COMMAND=VERSION
    // berth` at a shell gets an answer instead of a hang.
    let outcome = if stdin.is_terminal() {
        berth_cni::plugin::run_marked(&lookup, std::io::empty(), &mut mark)
    } else {
        berth_cni::plugin::run_marked(&lookup, stdin.lock(), &mut mark)
    };
    if let Some(text) = outcome.stdout {
        let mut out = std::io::stdout().lock();
        // If stdout is gone there is no one left to tell; the exit code
        // still says whether the verb succeeded.
        let _ = out.write_all(text.as_bytes());
        let _ = out.write_all(b"\n");
        let _ = out.flush();
    }
    marks.mark("printed");
    marks.report();
    if outcome.success {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Wall-clock marks (comparable across processes, unlike `Instant`).
struct PhaseMarks {
    marks: Option<Vec<(&'static str, u128)>>,
}

impl PhaseMarks {
    fn new(enabled: bool) -> Self {
        Self {
            marks: enabled.then(|| Vec::with_capacity(8)),
        }
    }

    fn mark(&mut self, step: &'static str) {
        if let Some(marks) = &mut self.marks {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            marks.push((step, nanos));
        }
    }

    fn report(&self) {
        let Some(marks) = &self.marks else { return };
        let mut line = String::from("berth-phases");
        for (step, nanos) in marks {
            line.push_str(&format!(" {step}={nanos}"));
        }
        line.push('\n');
        // Diagnostics only: a closed stderr changes nothing.
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
}
