//! The daemon's own counters, rendered in the Prometheus text format.
//!
//! No metrics crate: a handful of atomics and one fixed-bucket histogram
//! are all we export, and rendering them by hand keeps the format visible.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Upper bounds of the allocation latency buckets, in microseconds.
pub const LATENCY_BUCKETS_US: [u64; 14] = [
    50, 100, 250, 500, 1_000, 2_000, 3_000, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000,
    1_000_000,
];

#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS_US.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl Histogram {
    pub fn observe_us(&self, value_us: u64) {
        for (bound, bucket) in LATENCY_BUCKETS_US.iter().zip(&self.buckets) {
            if value_us <= *bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_us.fetch_add(value_us, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str, labels: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, bucket) in LATENCY_BUCKETS_US.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {}",
                bucket.load(Relaxed)
            );
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum_us.load(Relaxed));
        let _ = writeln!(out, "{name}_count{braces} {count}");
    }
}

/// Outcome label of a CNI verb handled by the daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Add,
    Del,
    Check,
    Gc,
    Status,
    Admin,
}

impl Verb {
    const ALL: [Verb; 6] = [
        Verb::Add,
        Verb::Del,
        Verb::Check,
        Verb::Gc,
        Verb::Status,
        Verb::Admin,
    ];
    fn as_str(self) -> &'static str {
        match self {
            Verb::Add => "add",
            Verb::Del => "del",
            Verb::Check => "check",
            Verb::Gc => "gc",
            Verb::Status => "status",
            Verb::Admin => "admin",
        }
    }
}

#[derive(Default)]
pub struct Metrics {
    pub add_latency: Histogram,
    /// Where ADDs spent their time, phase by phase.
    pub add_phases: crate::phases::PhaseTotals,
    requests_ok: [AtomicU64; 6],
    requests_err: [AtomicU64; 6],
    /// Addresses released, by cause.
    pub released_on_delete: AtomicU64,
    pub released_by_gc: AtomicU64,
    /// Addresses of zombie pods (finished, or stuck Terminating on a dead
    /// node) released by GC.
    pub released_zombie: AtomicU64,
    pub released_by_expiry: AtomicU64,
    pub released_by_operator: AtomicU64,
    pub released_by_rebind: AtomicU64,
    /// Superseded records of a partial store write, released on repair.
    pub released_by_repair: AtomicU64,
    pub reloads_ok: AtomicU64,
    pub reloads_failed: AtomicU64,
}

impl Metrics {
    pub fn count_request(&self, verb: Verb, ok: bool) {
        let index = Verb::ALL.iter().position(|v| *v == verb).unwrap_or(0);
        let counters = if ok {
            &self.requests_ok
        } else {
            &self.requests_err
        };
        counters[index].fetch_add(1, Relaxed);
    }

    /// Renders everything the daemon knows; `extra` is appended verbatim
    /// (pool usage and policy counters are rendered by their owners).
    pub fn render(&self, extra: &str) -> String {
        let mut out = String::with_capacity(4096);
        self.add_latency.render(
            &mut out,
            "berth_allocation_latency_us",
            "Time to answer a CNI ADD inside the daemon, in microseconds.",
            "",
        );
        self.add_phases.render(&mut out);
        let _ = writeln!(
            out,
            "# HELP berth_requests_total Requests handled, by verb and result."
        );
        let _ = writeln!(out, "# TYPE berth_requests_total counter");
        for (i, verb) in Verb::ALL.iter().enumerate() {
            for (result, counters) in [("ok", &self.requests_ok), ("error", &self.requests_err)] {
                let _ = writeln!(
                    out,
                    "berth_requests_total{{verb=\"{}\",result=\"{result}\"}} {}",
                    verb.as_str(),
                    counters[i].load(Relaxed)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP berth_releases_total Addresses released, by cause."
        );
        let _ = writeln!(out, "# TYPE berth_releases_total counter");
        for (cause, counter) in [
            ("delete", &self.released_on_delete),
            ("gc", &self.released_by_gc),
            ("zombie", &self.released_zombie),
            ("expiry", &self.released_by_expiry),
            ("operator", &self.released_by_operator),
            ("rebind", &self.released_by_rebind),
            ("repair", &self.released_by_repair),
        ] {
            let _ = writeln!(
                out,
                "berth_releases_total{{cause=\"{cause}\"}} {}",
                counter.load(Relaxed)
            );
        }
        let _ = writeln!(out, "# HELP berth_reloads_total Config reloads, by result.");
        let _ = writeln!(out, "# TYPE berth_reloads_total counter");
        let _ = writeln!(
            out,
            "berth_reloads_total{{result=\"ok\"}} {}",
            self.reloads_ok.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "berth_reloads_total{{result=\"error\"}} {}",
            self.reloads_failed.load(Relaxed)
        );
        out.push_str(extra);
        out
    }
}

/// Escapes a label value per the text format (backslash, quote, newline).
pub fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::default();
        h.observe_us(40);
        h.observe_us(1_500);
        h.observe_us(9_999_999);
        let mut out = String::new();
        h.render(&mut out, "x", "help", "");
        assert!(out.contains("x_bucket{le=\"50\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"2000\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"1000000\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("x_count 3\n"), "{out}");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
