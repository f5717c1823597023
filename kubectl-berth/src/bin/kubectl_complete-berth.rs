//! `kubectl_complete-berth`: kubectl's plugin completion hook. kubectl
//! (1.26 and later) runs it from PATH with the words typed after
//! `kubectl berth`; it prints the candidates in Cobra's form.

use std::io::Write as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let words: Vec<String> = std::env::args().skip(1).collect();
    let answer = kubectl_berth::complete::complete(&words).render();
    let mut out = std::io::stdout().lock();
    match out.write_all(answer.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe: the shell stopped listening; nothing to report.
        Err(_) => ExitCode::FAILURE,
    }
}
