//! The same run against the stand-in (tests/kube-standin): the same
//! berthd binary from the release image with the config the chart renders,
//! the same test kubelets and CNI chain per node, the same pods — but the
//! API server is our in-process stand-in (no TLS, auth, admission or
//! watch cache) and, as it has no controllers, the bench creates the
//! ReplicaSets and pods (with their owner references and nodeName) the
//! controllers and scheduler would.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context, Result};
use berth_cluster::kubelet::{CniRuntime, Kubelet, KubeletConfig};
use berth_cluster::prometheus::{self, Sample};
use berth_cluster::{pod_networks, ClusterConfig, Image, ImageProfile, Netns};
use berth_kube_standin::ApiServer;
use serde_json::json;

use crate::cpu;
use crate::real::{berthd_add_quantiles, berthd_adds};
use crate::report::{apiserver_verb, Run, RunShape, METRICS_SETTLE};
use crate::standin_berthd::{
    berthd_metrics, chart_config, free_port, start_berthd, wait_pool_known, Berthd,
};
use crate::standin_pods::{create_workloads, post};
use crate::watch::PodWatch;
use crate::workloads::{self, NAMESPACE, SELECTOR};

struct Node {
    name: String,
    // Drop order: the kubelet, berthd, then the namespace.
    kubelet: Kubelet,
    berthd: Berthd,
    metrics: String,
    _host_ns: Netns,
}

pub async fn run(shape: RunShape) -> Result<Run> {
    let image = tokio::task::spawn_blocking(|| Image::get_profile(ImageProfile::Release)).await??;
    let dir = tempfile::Builder::new()
        .prefix("berth-bench-standin-")
        .tempdir()?;
    let server = ApiServer::start()?;
    server.register_berth_kinds();
    let client = server.client()?;
    post(
        &client,
        "/api/v1/namespaces",
        json!({ "metadata": { "name": NAMESPACE } }),
    )
    .await?;
    let specs = ClusterConfig::nodes(shape.nodes).nodes;
    for spec in &specs {
        let mut labels: BTreeMap<String, String> = spec.labels.iter().cloned().collect();
        labels.insert("kubernetes.io/hostname".into(), spec.name.clone());
        post(
            &client,
            "/api/v1/nodes",
            json!({ "metadata": { "name": spec.name, "labels": labels } }),
        )
        .await?;
    }
    post(
        &client,
        "/apis/berth.io/v1alpha1/berthpools",
        workloads::pool(),
    )
    .await?;

    let config = chart_config(dir.path())?;
    let mut nodes = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        let node_dir = dir.path().join(&spec.name);
        std::fs::create_dir_all(&node_dir)?;
        let mut config = config.clone();
        let socket = node_dir.join("berth.sock");
        let metrics = format!("127.0.0.1:{}", free_port()?);
        config["socketPath"] = json!(socket);
        config["dataDir"] = json!(node_dir.join("data"));
        config["metricsAddress"] = json!(metrics);
        config["kubernetes"]["apiServerUrl"] = json!(server.url());
        let config_path = node_dir.join("berthd.json");
        std::fs::write(&config_path, serde_json::to_vec_pretty(&config)?)?;
        let bin_dir = image.rootfs.join("usr/local/bin");
        let berthd = start_berthd(
            &bin_dir.join("berthd"),
            &config_path,
            &spec.name,
            &socket,
            &node_dir,
        )?;
        let host_ns = Netns::create(&spec.name)?;
        let kubelet = Kubelet::start(
            client.clone(),
            KubeletConfig {
                node: spec.name.clone(),
                host_ip: format!("10.250.0.{}", index + 1),
                runtime: CniRuntime {
                    bin_dir,
                    host_ns: host_ns.name().to_string(),
                },
                primary: pod_networks(&socket).0,
                secondary: None,
                log: node_dir.join("kubelet.log"),
            },
        )?;
        nodes.push(Node {
            name: spec.name.clone(),
            kubelet,
            berthd,
            metrics,
            _host_ns: host_ns,
        });
    }
    for node in &nodes {
        wait_pool_known(&node.berthd)
            .await
            .with_context(|| format!("on {}", node.name))?;
    }

    let berthd_pids: Vec<u32> = nodes.iter().map(|n| n.berthd.child.id()).collect();
    let groups = [(
        format!("berthd (all {} nodes)", nodes.len()).as_str(),
        berthd_pids,
    )]
    .map(|(n, p)| (n.to_string(), p));
    let groups: Vec<(&str, Vec<u32>)> = groups
        .iter()
        .map(|(n, p)| (n.as_str(), p.clone()))
        .collect();
    let standin_threads = [("stand-in API server", "kube-standin")];
    let watch = PodWatch::start(client.clone(), NAMESPACE, SELECTOR);
    server.reset_counts();
    let cpu_before = cpu::snapshot(&groups, &standin_threads);

    let started = Instant::now();
    let pods = create_workloads(
        &client,
        shape,
        &specs.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
    )
    .await?;
    let done = watch.wait_addressed(shape.pods, shape.timeout).await;
    let window = started.elapsed();
    let cpu_after = cpu::snapshot(&groups, &standin_threads);
    let counts = server.counts();
    watch.check_distinct_ips()?;
    tokio::time::sleep(METRICS_SETTLE).await;

    let mut metrics: Vec<Vec<Sample>> = Vec::new();
    let mut add_chain = Vec::new();
    let mut cni_failures = 0;
    for node in &nodes {
        metrics.push(prometheus::parse(&berthd_metrics(&node.metrics)?)?);
        add_chain.extend(node.kubelet.history().iter().map(|r| r.took));
        cni_failures += node.kubelet.stats().adds_failed;
    }
    let requests = counts
        .0
        .iter()
        .map(|((verb, resource), n)| ((apiserver_verb(verb), resource.clone()), *n))
        .collect();
    drop(nodes);
    if std::env::var_os(berth_cluster::KEEP_DIR_ENV).is_some() {
        eprintln!("cluster_adds: kept {}", dir.keep().display());
    }
    Ok(Run {
        label: "stand-in".into(),
        pods: pods.min(shape.pods),
        nodes: shape.nodes,
        addressed: watch.addressed(),
        all_created: watch.last_created().map(|at| at.duration_since(started)),
        all_addressed: done.map(|at| at.duration_since(started)),
        create_to_ip: watch.create_to_ip(),
        add_chain,
        berthd_add_us: berthd_add_quantiles(&metrics),
        allocations: berthd_adds(&metrics, "ok"),
        requests,
        cni_failures,
        berthd_errors: berthd_adds(&metrics, "error"),
        cpu: cpu::between(&cpu_before, &cpu_after),
        api_latency: Vec::new(),
        window,
    })
}
