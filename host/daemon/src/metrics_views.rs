//! Metrics whose values other parts own, as `prometheus-client` collectors
//! built for one scrape: pool usage (the allocator's) and the policy
//! runtime's counters. Each owns a snapshot taken when the scrape began,
//! so encoding never waits on the allocator lock.

use berth_core::allocator::PoolUsage;
use berth_policy_runtime::MetricsSnapshot;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use std::collections::HashMap;
use std::fmt::Error;

/// `berth_pool_used` / `berth_pool_total` per pool.
#[derive(Debug)]
pub struct PoolMetrics(pub Vec<PoolUsage>);

impl Collector for PoolMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), Error> {
        for (name, help, value) in [
            (
                "berth_pool_used",
                "Addresses held in the pool",
                (|u: &PoolUsage| u.used) as fn(&PoolUsage) -> u64,
            ),
            (
                "berth_pool_total",
                "Assignable addresses of the pool",
                |u: &PoolUsage| u.total,
            ),
        ] {
            let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for usage in &self.0 {
                let labels = [("pool", usage.name.as_str())];
                ConstGauge::new(value(usage)).encode(metric.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

/// The policy runtime's counters and its chain latency histogram.
#[derive(Debug)]
pub struct PolicyMetrics(pub MetricsSnapshot);

impl Collector for PolicyMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), Error> {
        let s = &self.0;
        let ok = s.runs.saturating_sub(s.rejected + s.failed);
        let mut runs = encoder.encode_descriptor(
            "berth_policy_chain_runs",
            "Policy chain runs, by result",
            None,
            MetricType::Counter,
        )?;
        for (result, n) in [("ok", ok), ("rejected", s.rejected), ("failed", s.failed)] {
            ConstCounter::new(n).encode(runs.encode_family(&[("result", result)])?)?;
        }
        let mut calls = encoder.encode_descriptor(
            "berth_policy_evaluations",
            "Calls into each policy",
            None,
            MetricType::Counter,
        )?;
        for p in &s.policies {
            let labels = [("policy", p.name.as_str())];
            ConstCounter::new(p.calls).encode(calls.encode_family(&labels)?)?;
        }
        let mut errors = encoder.encode_descriptor(
            "berth_policy_errors",
            "Policy errors, by policy and kind",
            None,
            MetricType::Counter,
        )?;
        for p in &s.policies {
            for (kind, n) in &p.errors {
                let labels = [("policy", p.name.as_str()), ("kind", kind.as_str())];
                ConstCounter::new(*n).encode(errors.encode_family(&labels)?)?;
            }
        }
        let l = &s.latency;
        // The encoder sums buckets itself: hand it each bucket's own count.
        let mut below = 0;
        let mut buckets: Vec<(f64, u64)> = Vec::with_capacity(l.bounds_micros.len() + 1);
        for (bound, cumulative) in l.bounds_micros.iter().zip(&l.cumulative) {
            buckets.push((*bound as f64, cumulative.saturating_sub(below)));
            below = *cumulative;
        }
        buckets.push((f64::INFINITY, l.count.saturating_sub(below)));
        encoder
            .encode_descriptor(
                "berth_policy_chain_latency_us",
                "Policy chain run time including instantiation, in microseconds",
                None,
                MetricType::Histogram,
            )?
            .encode_histogram::<NoLabelSet>(
                l.sum_micros as f64,
                l.count,
                &buckets,
                None::<&HashMap<_, _>>,
            )
    }
}
