//! Test knobs: request counters by verb and resource, an injected
//! per-request latency, and fault injection for writes.

use crate::status::ApiError;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Verbs counted as writes by [`RequestCounts::writes`].
pub const WRITE_VERBS: [&str; 5] = ["create", "update", "patch", "delete", "deletecollection"];

/// A failure to inject into upcoming writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 409 with reason `Conflict`, as for a stale resourceVersion.
    Conflict,
    /// 500 with reason `InternalError`.
    InternalError,
    /// 429 with reason `TooManyRequests`.
    TooManyRequests,
    /// Any code and reason.
    Status {
        /// HTTP code.
        code: u16,
        /// `Status.reason`.
        reason: String,
    },
}

impl Fault {
    fn to_error(&self, resource: &str) -> ApiError {
        let msg = format!("injected fault on {resource}");
        match self {
            Fault::Conflict => ApiError::new(409, "Conflict", msg),
            Fault::InternalError => ApiError::new(500, "InternalError", msg),
            Fault::TooManyRequests => ApiError::new(429, "TooManyRequests", msg),
            Fault::Status { code, reason } => ApiError::new(*code, reason, msg),
        }
    }
}

#[derive(Debug)]
struct FaultRule {
    resource: String,
    remaining: usize,
    fault: Fault,
}

/// Counts of requests by (verb, resource). Resource is the plural, with
/// `/status` appended for the status subresource (`pods/status`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestCounts(pub BTreeMap<(String, String), u64>);

impl RequestCounts {
    /// Requests of one verb on one resource.
    pub fn get(&self, verb: &str, resource: &str) -> u64 {
        self.0
            .get(&(verb.to_owned(), resource.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Write requests (create, update, patch, delete, deletecollection) on
    /// `resource` and its subresources.
    pub fn writes(&self, resource: &str) -> u64 {
        self.0
            .iter()
            .filter(|((verb, res), _)| {
                WRITE_VERBS.contains(&verb.as_str())
                    && (res == resource
                        || res
                            .strip_prefix(resource)
                            .is_some_and(|r| r.starts_with('/')))
            })
            .map(|(_, n)| n)
            .sum()
    }

    /// All write requests.
    pub fn total_writes(&self) -> u64 {
        self.0
            .iter()
            .filter(|((verb, _), _)| WRITE_VERBS.contains(&verb.as_str()))
            .map(|(_, n)| n)
            .sum()
    }

    /// All requests.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
}

/// The knobs shared by all connections.
#[derive(Debug)]
pub(crate) struct Knobs {
    counts: Mutex<RequestCounts>,
    /// Objects served by lists and by the initial events of watches, by
    /// resource: what a request count hides (one LIST of 100,000 objects
    /// is one request).
    objects_read: Mutex<BTreeMap<String, u64>>,
    latency_us: AtomicU64,
    faults: Mutex<Vec<FaultRule>>,
    /// While true, open watches deliver no events (a lagging watch cache).
    watches_paused: tokio::sync::watch::Sender<bool>,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            counts: Mutex::default(),
            objects_read: Mutex::default(),
            latency_us: AtomicU64::default(),
            faults: Mutex::default(),
            watches_paused: tokio::sync::watch::Sender::new(false),
        }
    }
}

impl Knobs {
    pub(crate) fn count(&self, verb: &str, resource: &str) {
        if let Ok(mut c) = self.counts.lock() {
            *c.0.entry((verb.to_owned(), resource.to_owned()))
                .or_insert(0) += 1;
        }
    }

    pub(crate) fn count_objects_read(&self, resource: &str, n: usize) {
        if let Ok(mut c) = self.objects_read.lock() {
            *c.entry(resource.to_owned()).or_insert(0) += n as u64;
        }
    }

    pub(crate) fn objects_read(&self, resource: &str) -> u64 {
        self.objects_read
            .lock()
            .map(|c| c.get(resource).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    pub(crate) fn pause_watches(&self, paused: bool) {
        self.watches_paused.send_replace(paused);
    }

    /// Waits while watches are paused.
    pub(crate) async fn watches_flowing(&self) {
        let mut rx = self.watches_paused.subscribe();
        // The sender lives as long as the knobs: an error cannot happen
        // while a watch runs, and would mean "not paused" anyway.
        let _ = rx.wait_for(|paused| !*paused).await;
    }

    pub(crate) fn counts(&self) -> RequestCounts {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    pub(crate) fn reset_counts(&self) {
        if let Ok(mut c) = self.counts.lock() {
            c.0.clear();
        }
        if let Ok(mut c) = self.objects_read.lock() {
            c.clear();
        }
    }

    pub(crate) fn set_latency(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.latency_us.store(us, Ordering::Relaxed);
    }

    pub(crate) fn latency(&self) -> Duration {
        Duration::from_micros(self.latency_us.load(Ordering::Relaxed))
    }

    pub(crate) fn add_fault(&self, resource: &str, n: usize, fault: Fault) {
        if let Ok(mut f) = self.faults.lock() {
            f.push(FaultRule {
                resource: resource.to_owned(),
                remaining: n,
                fault,
            });
        }
    }

    pub(crate) fn clear_faults(&self) {
        if let Ok(mut f) = self.faults.lock() {
            f.clear();
        }
    }

    /// The fault for this write, if one is armed for `resource` (a plural,
    /// `plural/status`, or `*` for any), consuming one use of it.
    pub(crate) fn take_fault(&self, resource: &str) -> Option<ApiError> {
        let mut faults = self.faults.lock().ok()?;
        let plural = resource.split('/').next().unwrap_or(resource);
        let i = faults.iter().position(|r| {
            r.remaining > 0 && (r.resource == "*" || r.resource == resource || r.resource == plural)
        })?;
        faults[i].remaining -= 1;
        let err = faults[i].fault.to_error(resource);
        if faults[i].remaining == 0 {
            faults.remove(i);
        }
        Some(err)
    }
}
