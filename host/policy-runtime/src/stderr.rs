//! The guest's stderr, kept as a bounded tail per call.
//!
//! componentize-py prints an uncaught Python exception's traceback to
//! stderr and then traps; componentize-js does the same with a thrown
//! error. The trap itself only says `unreachable`, so without this the
//! exception's text is lost. The last bytes are what matter (a traceback
//! ends with `ValueError: message`), so the buffer keeps a tail: a guest
//! writing megabytes costs the host a fixed amount of memory, and every
//! write succeeds at once (never backpressure, so nothing makes the host
//! wait, as `no_wait.rs` requires).

use crate::limits::STDERR_TAIL_BYTES;
use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// Lines quoted in an error, after the noise below is dropped.
const QUOTED_LINES: usize = 4;

/// A handle on one store's stderr tail; clones share the buffer.
#[derive(Clone, Default)]
pub(crate) struct StderrTail(Arc<Mutex<VecDeque<u8>>>);

impl StderrTail {
    /// Forgets what earlier calls wrote.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The last few lines that say what went wrong, joined with " | "
    /// (one log line), or `None` when nothing was written.
    ///
    /// Stack frames and the language runtimes' own chatter are dropped, so
    /// what is left is the exception: Python's `KeyError: 'x'` line,
    /// JavaScript's message (componentize-js prints it, then `Stack:` and
    /// `fn@file:line:col` frames). A guest whose stderr is all noise is
    /// quoted as it is.
    pub fn quote(&self) -> Option<String> {
        let bytes: Vec<u8> = self.lock().iter().copied().collect();
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let telling: Vec<&str> = lines.iter().copied().filter(|l| !is_noise(l)).collect();
        let lines = if telling.is_empty() { lines } else { telling };
        let first = lines.len().saturating_sub(QUOTED_LINES);
        let quoted = lines[first..].join(" | ");
        (!quoted.is_empty()).then_some(quoted)
    }

    /// The whole tail, for the debug log.
    pub fn text(&self) -> String {
        let bytes: Vec<u8> = self.lock().iter().copied().collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn push(&self, bytes: &[u8]) {
        let mut tail = self.lock();
        let keep = &bytes[bytes.len().saturating_sub(STDERR_TAIL_BYTES)..];
        let overflow = (tail.len() + keep.len()).saturating_sub(STDERR_TAIL_BYTES);
        let drop = overflow.min(tail.len());
        tail.drain(..drop);
        tail.extend(keep);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<u8>> {
        // A panic while holding the lock leaves bytes, not broken
        // invariants: keep using them.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A stack frame or a line the language runtime adds to every failure.
fn is_noise(line: &str) -> bool {
    const CHATTER: &[&str] = &[
        // componentize-py: the traceback header, then its Rust panic.
        "Traceback (most recent call last):",
        "thread '",
        "Python function threw",
        "note: run with `RUST_BACKTRACE",
        // componentize-js (SpiderMonkey).
        "Stack:",
        "Redirecting call to abort()",
    ];
    if CHATTER.iter().any(|c| line.starts_with(c)) {
        return true;
    }
    // Python: `File "/0/app.py", line 9, in lookup`.
    if line.starts_with("File \"") && line.contains("\", line ") {
        return true;
    }
    // JavaScript: `lookup@raises.js:5:30`.
    let mut parts = line.rsplitn(3, ':');
    let numeric =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let (col, row, rest) = (parts.next(), parts.next(), parts.next());
    numeric(col) && numeric(row) && rest.is_some_and(|r| r.contains('@'))
}

impl IsTerminal for StderrTail {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for StderrTail {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        // Only WASIp3 guests write here, and `imports.rs` refuses them at
        // load; a throwaway pipe keeps the path harmless if that changes.
        Box::new(MemoryOutputPipe::new(STDERR_TAIL_BYTES))
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for StderrTail {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        // Always ready, for any size: the tail absorbs it.
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for StderrTail {
    async fn ready(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(stderr: &str) -> Option<String> {
        let tail = StderrTail::default();
        tail.push(stderr.as_bytes());
        tail.quote()
    }

    #[test]
    fn quotes_the_exception_not_the_frames() {
        // As componentize-py 0.25 and componentize-js 0.23 print them.
        let python = "Traceback (most recent call last):\n  File \"/0/app.py\", line 24, in evaluate\n  \
                      File \"/0/app.py\", line 9, in lookup\nKeyError: 'no pool'\n\
                      thread '<unnamed>' (1) panicked at runtime/src/lib.rs:1280:25:\n\
                      Python function threw an unexpected exception\n\
                      note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(quoted(python).as_deref(), Some("KeyError: 'no pool'"));
        let js =
            "no pool for web-0\nStack:\n  lookup@raises.js:5:30\n  evaluate@raises.js:18:12\n  \
                  export_policy_0_1_0$evaluate@/tmp/x/initializer.js:804:15\n\
                  Redirecting call to abort() to mozalloc_abort\n";
        assert_eq!(quoted(js).as_deref(), Some("no pool for web-0"));
        assert_eq!(quoted("Stack:\n").as_deref(), Some("Stack:"));
        assert_eq!(
            quoted("a@b:1:2 is a message\n").as_deref(),
            Some("a@b:1:2 is a message")
        );
    }

    #[test]
    fn keeps_the_last_lines_of_a_long_stream() {
        let tail = StderrTail::default();
        let mut stream = tail.p2_stream();
        for i in 0..10_000 {
            stream
                .write(Bytes::from(format!("frame {i}\n")))
                .expect("writes succeed");
        }
        stream
            .write(Bytes::from_static(b"ValueError: boom\n\n"))
            .expect("write");
        assert!(tail.lock().len() <= STDERR_TAIL_BYTES);
        assert_eq!(
            tail.quote().as_deref(),
            Some("frame 9997 | frame 9998 | frame 9999 | ValueError: boom")
        );
        assert!(tail.text().ends_with("ValueError: boom\n\n"));
        tail.clear();
        assert_eq!(tail.quote(), None);
    }

    #[test]
    fn one_huge_write_keeps_its_end() {
        let tail = StderrTail::default();
        let mut text = "x".repeat(100_000);
        text.push_str("\nTypeError: the end");
        tail.p2_stream()
            .write(Bytes::from(text))
            .expect("writes succeed");
        assert!(tail
            .quote()
            .expect("quoted")
            .ends_with("TypeError: the end"));
    }
}
