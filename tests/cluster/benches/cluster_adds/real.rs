//! The run against the real control plane: etcd, kube-apiserver and the
//! controllers from tests/cluster, the chart installed by helm with its
//! default values, berthd from the release image on every node, and the
//! test kubelets running the CNI chain. The controllers create the pods;
//! our scheduler binds them round-robin.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use berth_cluster::prometheus::{self, Sample};
use berth_cluster::{Cluster, ClusterConfig, ImageProfile};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use kube::api::PostParams;
use kube::Api;
use serde_json::json;

use crate::report::{Run, RunShape, METRICS_SETTLE};
use crate::watch::PodWatch;
use crate::workloads::{self, Kind, NAMESPACE, POOL, SELECTOR};
use crate::{apiserver, cpu};

pub async fn run(shape: RunShape) -> Result<Run> {
    // The chart's own defaults (GC every 30 s, pools every 10 s), not the
    // tests' one-second loops: the bench measures what users run.
    let mut config = ClusterConfig::nodes(shape.nodes).with_image(ImageProfile::Release);
    config.values = json!({});
    let cluster = Cluster::start(config).await?;
    cluster.apply(&workloads::pool())?;
    cluster
        .wait_pool_known(POOL, Duration::from_secs(60))
        .await?;

    let client = cluster.client().await?;
    let requests_before = apiserver::requests(&apiserver::samples(&cluster).await?)?;
    let failures_before = cluster.adds_failed();
    let pids = component_pids(&cluster);
    let groups: Vec<(&str, Vec<u32>)> = pids.iter().map(|(n, p)| (n.as_str(), p.clone())).collect();
    let cpu_before = cpu::snapshot(&groups, &[]);
    let watch = PodWatch::start(client.clone(), NAMESPACE, SELECTOR);

    let started = Instant::now();
    for w in workloads::plan(shape.pods) {
        let object = workloads::object(&w);
        let params = PostParams::default();
        match w.kind {
            Kind::Deployment => {
                Api::<Deployment>::namespaced(client.clone(), NAMESPACE)
                    .create(&params, &serde_json::from_value(object)?)
                    .await?;
            }
            Kind::StatefulSet => {
                Api::<StatefulSet>::namespaced(client.clone(), NAMESPACE)
                    .create(&params, &serde_json::from_value(object)?)
                    .await?;
            }
        }
    }
    let done = watch.wait_addressed(shape.pods, shape.timeout).await;
    let window = started.elapsed();
    let cpu_after = cpu::snapshot(&groups, &[]);
    let apiserver_after = apiserver::samples(&cluster).await?;
    let requests_after = apiserver::requests(&apiserver_after)?;
    cluster.check_berthds()?;
    watch.check_distinct_ips()?;
    tokio::time::sleep(METRICS_SETTLE).await;

    let mut metrics: Vec<Vec<Sample>> = Vec::new();
    let mut add_chain = Vec::new();
    let mut cni_failures = 0;
    for node in cluster.nodes() {
        let text = node.berthd_metrics().await?;
        metrics.push(prometheus::parse(&text).with_context(|| format!("berthd on {}", node.name))?);
        add_chain.extend(node.kubelet().history().iter().map(|r| r.took));
        cni_failures += node.kubelet().stats().adds_failed;
    }
    cluster.assert_no_forbidden()?;
    let mut requests = BTreeMap::new();
    for (key, after) in requests_after {
        let before = requests_before.get(&key).copied().unwrap_or(0);
        if after > before {
            requests.insert(key, after - before);
        }
    }
    Ok(Run {
        label: "real control plane".into(),
        pods: shape.pods,
        nodes: shape.nodes,
        addressed: watch.addressed(),
        all_created: watch.last_created().map(|at| at.duration_since(started)),
        all_addressed: done.map(|at| at.duration_since(started)),
        create_to_ip: watch.create_to_ip(),
        add_chain,
        berthd_add_us: berthd_add_quantiles(&metrics),
        allocations: berthd_adds(&metrics, "ok"),
        requests,
        cni_failures: cni_failures - failures_before,
        berthd_errors: berthd_adds(&metrics, "error"),
        cpu: cpu::between(&cpu_before, &cpu_after),
        api_latency: apiserver::latencies(&apiserver_after),
        window,
    })
}

fn component_pids(cluster: &Cluster) -> Vec<(String, Vec<u32>)> {
    let mut out: Vec<(String, Vec<u32>)> = cluster
        .control_plane()
        .components()
        .into_iter()
        .map(|(name, pid)| (name.to_string(), vec![pid]))
        .collect();
    let berthds = cluster
        .nodes()
        .iter()
        .filter_map(|n| n.berthd_pid())
        .collect();
    out.push((
        format!("berthd (all {} nodes)", cluster.nodes().len()),
        berthds,
    ));
    out
}

/// ADDs berthd answered with `result` ("ok", "error"), over all nodes.
pub fn berthd_adds(metrics: &[Vec<Sample>], result: &str) -> u64 {
    metrics
        .iter()
        .map(|m| {
            prometheus::sum(
                m,
                "berth_requests_total",
                &[("verb", "add"), ("result", result)],
            )
        })
        .sum::<f64>() as u64
}

pub fn berthd_add_quantiles(metrics: &[Vec<Sample>]) -> Option<(f64, f64)> {
    let name = "berth_allocation_latency_us";
    Some((
        prometheus::histogram_quantile(metrics, name, 0.5)?,
        prometheus::histogram_quantile(metrics, name, 0.99)?,
    ))
}
