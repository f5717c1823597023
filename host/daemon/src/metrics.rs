//! The daemon's own metrics, kept in `prometheus-client` types and exposed
//! in the Prometheus text format (0.0.4) by [`Metrics::render`].
//!
//! Counters the daemon owns live in the registry built here. What other
//! parts own (pool usage from the allocator, policy counters from the
//! runtime, ADD phases) is read at render time through collectors
//! (`metrics_views.rs`), so nothing is copied into the registry between
//! scrapes.

use crate::phases::PhaseTotals;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// Upper bounds of the allocation latency buckets, in microseconds.
pub const LATENCY_BUCKETS_US: [u64; 14] = [
    50, 100, 250, 500, 1_000, 2_000, 3_000, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000,
    1_000_000,
];

/// The verb of a request handled by the daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verb {
    Add,
    Del,
    Check,
    Gc,
    Status,
    Admin,
}

/// Why an address was released.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReleaseKind {
    /// The container's DEL.
    Delete,
    /// The cluster GC or a CNI GC: the pod or container is gone.
    Gc,
    /// A finished pod, or one stuck Terminating on a dead node.
    Zombie,
    /// A retained binding past its expiry.
    Expiry,
    /// `berthd release` / `kubectl berth release`.
    Operator,
    /// An identity re-bound elsewhere (a pool move).
    Rebind,
    /// The superseded record of a partial store write.
    Repair,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Outcome {
    Ok,
    Error,
}

/// Label values in the snake case Prometheus users expect (the derive
/// would write the variants' Rust names).
macro_rules! label_values {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl EncodeLabelValue for $ty {
            fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
                let text: &str = match self {
                    $(<$ty>::$variant => $text),+
                };
                EncodeLabelValue::encode(&text, encoder)
            }
        }
    };
}

label_values!(Verb { Add => "add", Del => "del", Check => "check", Gc => "gc", Status => "status", Admin => "admin" });
label_values!(ReleaseKind {
    Delete => "delete",
    Gc => "gc",
    Zombie => "zombie",
    Expiry => "expiry",
    Operator => "operator",
    Rebind => "rebind",
    Repair => "repair",
});
label_values!(Outcome { Ok => "ok", Error => "error" });

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    verb: Verb,
    result: Outcome,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CauseLabels {
    cause: ReleaseKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ResultLabels {
    result: Outcome,
}

pub struct Metrics {
    registry: Registry,
    add_latency: Histogram,
    /// Where ADDs spent their time, phase by phase.
    pub add_phases: Arc<PhaseTotals>,
    requests: Family<RequestLabels, Counter>,
    releases: Family<CauseLabels, Counter>,
    reloads: Family<ResultLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let add_latency = Histogram::new(LATENCY_BUCKETS_US.iter().map(|b| *b as f64));
        registry.register(
            "berth_allocation_latency_us",
            "Time to answer a CNI ADD inside the daemon, in microseconds",
            add_latency.clone(),
        );
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "berth_requests",
            "Requests handled, by verb and result",
            requests.clone(),
        );
        let releases = Family::<CauseLabels, Counter>::default();
        registry.register(
            "berth_releases",
            "Addresses released, by cause",
            releases.clone(),
        );
        let reloads = Family::<ResultLabels, Counter>::default();
        registry.register(
            "berth_reloads",
            "Config reloads, by result",
            reloads.clone(),
        );
        // Every series exists from the start, so a rate over a fresh
        // daemon reads 0 rather than "no data".
        for verb in [
            Verb::Add,
            Verb::Del,
            Verb::Check,
            Verb::Gc,
            Verb::Status,
            Verb::Admin,
        ] {
            for result in [Outcome::Ok, Outcome::Error] {
                let _ = requests.get_or_create(&RequestLabels { verb, result });
            }
        }
        for cause in [
            ReleaseKind::Delete,
            ReleaseKind::Gc,
            ReleaseKind::Zombie,
            ReleaseKind::Expiry,
            ReleaseKind::Operator,
            ReleaseKind::Rebind,
            ReleaseKind::Repair,
        ] {
            let _ = releases.get_or_create(&CauseLabels { cause });
        }
        for result in [Outcome::Ok, Outcome::Error] {
            let _ = reloads.get_or_create(&ResultLabels { result });
        }
        let add_phases = Arc::new(PhaseTotals::default());
        registry.register_collector(Box::new(add_phases.clone()));
        Metrics {
            registry,
            add_latency,
            add_phases,
            requests,
            releases,
            reloads,
        }
    }
}

impl Metrics {
    pub fn observe_add_us(&self, value_us: u64) {
        self.add_latency.observe(value_us as f64);
    }

    pub fn count_request(&self, verb: Verb, ok: bool) {
        let result = if ok { Outcome::Ok } else { Outcome::Error };
        self.requests
            .get_or_create(&RequestLabels { verb, result })
            .inc();
    }

    pub fn released(&self, cause: ReleaseKind, count: u64) {
        self.releases
            .get_or_create(&CauseLabels { cause })
            .inc_by(count);
    }

    pub fn reloaded(&self, ok: bool) {
        let result = if ok { Outcome::Ok } else { Outcome::Error };
        self.reloads.get_or_create(&ResultLabels { result }).inc();
    }

    /// Everything the daemon knows, then `views`: collectors owning what
    /// other parts reported for this scrape (pool usage, policy counters).
    pub fn render(&self, views: Vec<Box<dyn Collector>>) -> String {
        let mut out = String::with_capacity(4096);
        let mut scrape = Registry::default();
        for view in views {
            scrape.register_collector(view);
        }
        for registry in [&self.registry, &scrape] {
            // Writing to a String cannot fail; a collector's own error is
            // logged and the rest of the scrape still served.
            if let Err(error) =
                prometheus_client::encoding::prometheus_text::encode(&mut out, registry)
            {
                tracing::error!(%error, "could not render metrics");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format_names_counters_and_buckets_as_prometheus_reads_them() {
        let m = Metrics::default();
        m.observe_add_us(40);
        m.observe_add_us(1_500);
        m.observe_add_us(9_999_999);
        m.count_request(Verb::Add, true);
        m.released(ReleaseKind::Zombie, 2);
        m.reloaded(false);
        let out = m.render(Vec::new());
        for line in [
            "# TYPE berth_allocation_latency_us histogram\n",
            "berth_allocation_latency_us_bucket{le=\"50\"} 1\n",
            "berth_allocation_latency_us_bucket{le=\"2000\"} 2\n",
            "berth_allocation_latency_us_bucket{le=\"1e+06\"} 2\n",
            "berth_allocation_latency_us_bucket{le=\"+Inf\"} 3\n",
            "berth_allocation_latency_us_count 3\n",
            "berth_requests_total{verb=\"add\",result=\"ok\"} 1\n",
            "berth_requests_total{verb=\"gc\",result=\"error\"} 0\n",
            "berth_releases_total{cause=\"zombie\"} 2\n",
            "berth_releases_total{cause=\"repair\"} 0\n",
            "berth_reloads_total{result=\"error\"} 1\n",
        ] {
            assert!(out.contains(line), "{line:?} not in\n{out}");
        }
    }
}
