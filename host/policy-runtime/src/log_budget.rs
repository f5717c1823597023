//! How much a guest may log per call, and how its text is made safe to
//! log: bounded, tagged with the policy name, control characters escaped
//! (no forged log lines). The import that spends it is `log.rs`.

use crate::bindings::wit::LogLevel;
use std::fmt::Write as _;
use std::sync::Arc;

/// The `tracing` target of every guest message.
pub const LOG_TARGET: &str = "berth::policy";

/// How many messages the current call may still emit.
pub(crate) struct LogBudget {
    policy: Arc<str>,
    per_call: u32,
    message_bytes: usize,
    remaining: u32,
    dropped: u32,
    /// The last error-level message of the current call: a guest that
    /// then traps (a Rust panic is `unreachable`) is reported with it.
    last_error: Option<String>,
}

impl LogBudget {
    pub fn new(policy: Arc<str>, per_call: u32, message_bytes: usize) -> Self {
        Self {
            policy,
            per_call,
            message_bytes,
            remaining: per_call,
            dropped: 0,
            last_error: None,
        }
    }

    /// Starts a new call's budget.
    pub fn reset(&mut self) {
        self.remaining = self.per_call;
        self.dropped = 0;
        self.last_error = None;
    }

    /// The last error-level message of the current call, if any.
    pub fn take_last_error(&mut self) -> Option<String> {
        self.last_error.take()
    }

    /// `text` cut and escaped as a logged message would be: for guest
    /// text that reaches an error by another way (its stderr).
    pub fn bounded(&self, text: &str) -> String {
        sanitize(text, self.message_bytes)
    }

    /// Logs, at debug level, the whole stderr tail of a failed call (the
    /// error quotes only its last telling lines; the frames are here).
    pub fn stderr(&self, call: &str, text: &str) {
        let policy = &*self.policy;
        let text = sanitize(text, crate::limits::STDERR_TAIL_BYTES);
        tracing::debug!(target: LOG_TARGET, policy, call, "stderr of the failed call: {text}");
    }

    /// Ends a call: reports (once) how many messages were dropped and
    /// returns that count for the metrics.
    pub fn finish(&mut self, call: &str) -> u32 {
        let dropped = std::mem::take(&mut self.dropped);
        if dropped > 0 {
            tracing::warn!(
                target: LOG_TARGET,
                policy = %self.policy,
                call,
                dropped,
                "policy exceeded its log budget of {} messages per call",
                self.per_call
            );
        }
        dropped
    }

    /// Whether the call may log one more message; counts a drop when not.
    pub fn has_room(&mut self) -> bool {
        if self.remaining == 0 {
            self.dropped = self.dropped.saturating_add(1);
            return false;
        }
        true
    }

    /// The most bytes of one message.
    pub fn message_bytes(&self) -> usize {
        self.message_bytes
    }

    /// Emits an already sanitized message, spending one of the budget.
    pub fn emit(&mut self, level: LogLevel, text: &str) {
        self.remaining = self.remaining.saturating_sub(1);
        let policy = &*self.policy;
        match level {
            LogLevel::Debug => tracing::debug!(target: LOG_TARGET, policy, "{text}"),
            LogLevel::Info => tracing::info!(target: LOG_TARGET, policy, "{text}"),
            LogLevel::Warn => tracing::warn!(target: LOG_TARGET, policy, "{text}"),
            LogLevel::Error => {
                tracing::error!(target: LOG_TARGET, policy, "{text}");
                self.last_error = Some(text.to_owned());
            }
        }
    }
}

/// At most `max_bytes` of `message` (cut on a char boundary, marked with
/// "…"), control characters escaped.
pub(crate) fn sanitize(message: &str, max_bytes: usize) -> String {
    let mut out = String::with_capacity(message.len().min(max_bytes) + 4);
    for c in message.chars() {
        let before = out.len();
        if c.is_control() {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
        if out.len() > max_bytes {
            out.truncate(before);
            out.push('…');
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn sanitize_cuts_on_char_boundaries_and_escapes_controls() {
        assert_eq!(sanitize("a\nb", 100), "a\\nb");
        assert_eq!(sanitize("héllo", 2), "h…");
        assert_eq!(sanitize("abc", 3), "abc");
        assert!(sanitize(&"x".repeat(5000), 1024).len() <= 1024 + '…'.len_utf8());
    }
}
