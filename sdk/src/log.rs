//! Guest-side logging through the host's `log` import.
//!
//! On wasm32 each call crosses into the host, which bounds and rate-limits
//! what a policy may log. Natively (unit tests through [`crate::harness`])
//! messages are kept in a per-thread buffer that [`take_captured`] drains,
//! so tests can assert on them without any global logger.

use crate::LogLevel;

pub fn debug(message: &str) {
    emit(LogLevel::Debug, message);
}

pub fn info(message: &str) {
    emit(LogLevel::Info, message);
}

pub fn warn(message: &str) {
    emit(LogLevel::Warn, message);
}

pub fn error(message: &str) {
    emit(LogLevel::Error, message);
}

#[cfg(target_arch = "wasm32")]
fn emit(level: LogLevel, message: &str) {
    use crate::bindings::berth::policy::{host, types::LogLevel as Wit};
    let level = match level {
        LogLevel::Debug => Wit::Debug,
        LogLevel::Info => Wit::Info,
        LogLevel::Warn => Wit::Warn,
        LogLevel::Error => Wit::Error,
    };
    host::log(level, message);
}

#[cfg(not(target_arch = "wasm32"))]
thread_local! {
    static CAPTURED: std::cell::RefCell<Vec<(LogLevel, String)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

#[cfg(not(target_arch = "wasm32"))]
fn emit(level: LogLevel, message: &str) {
    CAPTURED.with(|buf| {
        let mut buf = buf.borrow_mut();
        if buf.len() >= crate::limits::LOG_CAPTURE_MAX {
            buf.remove(0);
        }
        buf.push((level, message.to_owned()));
    });
}

/// Drains the messages logged on this thread (native builds only).
#[cfg(not(target_arch = "wasm32"))]
pub fn take_captured() -> Vec<(LogLevel, String)> {
    CAPTURED.with(|buf| std::mem::take(&mut *buf.borrow_mut()))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn captures_in_order_and_drains() {
        let _ = take_captured();
        info("one");
        error("two");
        assert_eq!(
            take_captured(),
            vec![
                (LogLevel::Info, "one".to_owned()),
                (LogLevel::Error, "two".to_owned())
            ]
        );
        assert!(take_captured().is_empty());
    }
}
