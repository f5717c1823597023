//! What kube-apiserver's `/metrics` says about the run: requests by verb
//! and resource, and how long it took over the requests Berth and the
//! kubelets make most.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use berth_cluster::prometheus::{self, Sample};
use berth_cluster::Cluster;

/// (verb, resource, subresource) whose latency is shown.
const TIMED: [(&str, &str, &str); 6] = [
    ("POST", "berthaddresses", ""),
    ("LIST", "berthaddresses", ""),
    ("POST", "pods", ""),
    ("POST", "pods", "binding"),
    ("PATCH", "pods", "status"),
    ("PUT", "replicasets", "status"),
];

pub async fn samples(cluster: &Cluster) -> Result<Vec<Sample>> {
    prometheus::parse(&cluster.control_plane().apiserver_metrics().await?)
}

/// `apiserver_request_total` summed over codes, by (verb,
/// resource[/subresource]).
pub fn requests(samples: &[Sample]) -> Result<BTreeMap<(String, String), u64>> {
    let mut out = BTreeMap::new();
    for s in samples
        .iter()
        .filter(|s| s.name == "apiserver_request_total")
    {
        let resource = match s.label("subresource") {
            "" => s.label("resource").to_string(),
            sub => format!("{}/{sub}", s.label("resource")),
        };
        if resource.is_empty() {
            continue; // non-resource URLs: /readyz, /metrics ...
        }
        *out.entry((s.label("verb").to_string(), resource))
            .or_default() += s.value as u64;
    }
    if out.is_empty() {
        bail!("kube-apiserver's /metrics has no apiserver_request_total");
    }
    Ok(out)
}

/// p50 and p99 of `apiserver_request_duration_seconds` for [`TIMED`].
pub fn latencies(samples: &[Sample]) -> Vec<(String, f64, f64)> {
    TIMED
        .iter()
        .filter_map(|(verb, resource, sub)| {
            let matching: Vec<Sample> = samples
                .iter()
                .filter(|s| {
                    s.name == "apiserver_request_duration_seconds_bucket"
                        && s.label("verb") == *verb
                        && s.label("resource") == *resource
                        && s.label("subresource") == *sub
                })
                .cloned()
                .collect();
            let sets = [matching];
            let name = "apiserver_request_duration_seconds";
            let p50 = prometheus::histogram_quantile(&sets, name, 0.5)?;
            let p99 = prometheus::histogram_quantile(&sets, name, 0.99)?;
            let what = match *sub {
                "" => format!("{verb} {resource}"),
                sub => format!("{verb} {resource}/{sub}"),
            };
            Some((what, p50, p99))
        })
        .collect()
}
