//! Bounded retries of one API request on transient failures.
//!
//! Transient: 5xx, 429, request timeouts and connection errors. Anything
//! else (409, 404, 422, 403 …) is an answer and goes straight back to the
//! caller, which knows what it means for its verb. Limits are in
//! `berth_core::limits` (`KUBE_*`).

use crate::limits::KUBE_REQUEST_ATTEMPTS_MAX;
use crate::limits::KUBE_REQUEST_TIMEOUT_MS;
use crate::limits::KUBE_RETRY_BACKOFF_BASE_MS;
use crate::limits::KUBE_RETRY_BACKOFF_MAX_MS;
use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How a request ended after its retries.
#[derive(Debug)]
pub enum Failure {
    /// The API server answered with a status (kept for the caller).
    Api(Box<kube::core::Status>),
    /// Still transient after the last attempt, or not an API answer.
    Other(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Api(s) => write!(f, "{} {}: {}", s.code, s.reason, s.message),
            Failure::Other(m) => f.write_str(m),
        }
    }
}

/// The outcome of [`with_retries`]: the value, or the last failure and
/// whether an earlier attempt may have reached the server (its effect may
/// have happened even though we saw no answer).
#[derive(Debug)]
pub struct Attempted<T> {
    pub result: Result<T, Failure>,
    pub ambiguous: bool,
}

/// Retries counted by every store of the process (benchmarks report them).
pub static RETRIES: AtomicU64 = AtomicU64::new(0);

/// Runs `op` until it answers, at most `KUBE_REQUEST_ATTEMPTS_MAX` times,
/// each attempt bounded by `KUBE_REQUEST_TIMEOUT_MS`.
pub async fn with_retries<T, F, Fut>(mut op: F) -> Attempted<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut ambiguous = false;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let timeout = Duration::from_millis(KUBE_REQUEST_TIMEOUT_MS);
        let failure = match tokio::time::timeout(timeout, op()).await {
            Ok(Ok(value)) => {
                return Attempted {
                    result: Ok(value),
                    ambiguous,
                }
            }
            Ok(Err(kube::Error::Api(status))) if !is_transient_status(status.code) => {
                return Attempted {
                    result: Err(Failure::Api(status)),
                    ambiguous,
                }
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {KUBE_REQUEST_TIMEOUT_MS} ms"),
        };
        // A 5xx or a lost connection may come after the server acted.
        ambiguous = true;
        if attempt >= KUBE_REQUEST_ATTEMPTS_MAX {
            return Attempted {
                result: Err(Failure::Other(format!(
                    "{failure} (after {attempt} attempts)"
                ))),
                ambiguous,
            };
        }
        RETRIES.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(attempt, %failure, "transient API failure, retrying");
        tokio::time::sleep(backoff(attempt)).await;
    }
}

fn is_transient_status(code: u16) -> bool {
    code == 429 || code >= 500
}

/// Exponential backoff with full jitter: base·2^(n-1) capped, then a
/// random point between half of it and all of it.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let exp = KUBE_RETRY_BACKOFF_BASE_MS.saturating_mul(1u64 << attempt.saturating_sub(1).min(16));
    let cap = exp.min(KUBE_RETRY_BACKOFF_MAX_MS);
    let half = cap / 2;
    Duration::from_millis(half + random_below(cap - half + 1))
}

/// A random number below `n` (`n` ≥ 1). `RandomState` is seeded from the
/// OS per instance: enough to spread retries, with no extra dependency.
fn random_below(n: u64) -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(n);
    h.finish() % n.max(1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_grows() {
        for attempt in 1..=10 {
            let d = backoff(attempt).as_millis() as u64;
            assert!(d <= KUBE_RETRY_BACKOFF_MAX_MS, "{attempt}: {d}");
        }
        assert!(backoff(1).as_millis() as u64 <= KUBE_RETRY_BACKOFF_BASE_MS);
        assert!(backoff(10).as_millis() as u64 >= KUBE_RETRY_BACKOFF_MAX_MS / 2);
    }

    #[test]
    fn transient_codes() {
        assert!(is_transient_status(500) && is_transient_status(503));
        assert!(is_transient_status(429));
        assert!(!is_transient_status(409) && !is_transient_status(404));
    }
}
