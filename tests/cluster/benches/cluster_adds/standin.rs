//! The same run against the stand-in (tests/kube-standin): the same
//! berthd binary from the release image with the config the chart renders,
//! the same test kubelets and CNI chain per node, the same pods — but the
//! API server is our in-process stand-in (no TLS, auth, admission or
//! watch cache) and, as it has no controllers, the bench creates the
//! ReplicaSets and pods (with their owner references and nodeName) the
//! controllers and scheduler would.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use berth_cluster::kubelet::{CniRuntime, Kubelet, KubeletConfig};
use berth_cluster::prometheus::{self, Sample};
use berth_cluster::{helper_binary, pod_networks, ClusterConfig, Helm, Image, ImageProfile, Netns};
use berth_kube_standin::ApiServer;
use futures::StreamExt;
use serde_json::{json, Value};

use crate::cpu;
use crate::real::{berthd_add_quantiles, berthd_adds};
use crate::report::{apiserver_verb, Run, RunShape, METRICS_SETTLE};
use crate::watch::PodWatch;
use crate::workloads::{self, Kind, NAMESPACE, POOL, SELECTOR};

/// Pod creates in flight at once (the controllers' work).
const CREATES_IN_FLIGHT: usize = 16;

struct Node {
    name: String,
    // Drop order: the kubelet, berthd, then the namespace.
    kubelet: Kubelet,
    berthd: Berthd,
    metrics: String,
    _host_ns: Netns,
}

struct Berthd {
    child: Child,
    socket: PathBuf,
    binary: PathBuf,
}

impl Drop for Berthd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn run(shape: RunShape) -> Result<Run> {
    let image = tokio::task::spawn_blocking(|| Image::get_profile(ImageProfile::Release)).await??;
    let dir = tempfile::Builder::new()
        .prefix("berth-bench-standin-")
        .tempdir()?;
    let server = ApiServer::start()?;
    server.register_resource("berth.io", "v1alpha1", "BerthPool", "berthpools", false);
    server.register_resource(
        "berth.io",
        "v1alpha1",
        "BerthAddress",
        "berthaddresses",
        false,
    );
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

/// The workload objects, then every pod as its controller would make
/// it; the number of pods created.
async fn create_workloads(
    client: &kube::Client,
    shape: RunShape,
    nodes: &[String],
) -> Result<usize> {
    let ns = format!("/namespaces/{NAMESPACE}");
    let mut pods = Vec::new();
    for w in workloads::plan(shape.pods) {
        let object = workloads::object(&w);
        let (owner_kind, owner_name, owner_uid) = match w.kind {
            Kind::Deployment => {
                let d = post(
                    client,
                    &format!("/apis/apps/v1{ns}/deployments"),
                    object.clone(),
                )
                .await?;
                let rs_name = format!("{}-bench", w.name);
                let rs = json!({
                    "apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": { "name": rs_name, "namespace": NAMESPACE,
                        "ownerReferences": [owner("Deployment", &w.name, &d)] },
                    "spec": object["spec"],
                });
                let rs = post(client, &format!("/apis/apps/v1{ns}/replicasets"), rs).await?;
                ("ReplicaSet", rs_name, rs)
            }
            Kind::StatefulSet => {
                let s = post(
                    client,
                    &format!("/apis/apps/v1{ns}/statefulsets"),
                    object.clone(),
                )
                .await?;
                ("StatefulSet", w.name.clone(), s)
            }
        };
        for i in 0..w.replicas {
            let mut pod = workloads::pod_template(&w.name);
            let name = match w.kind {
                Kind::Deployment => format!("{owner_name}-{i}"),
                Kind::StatefulSet => {
                    let name = format!("{}-{i}", w.name);
                    pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] = json!(name);
                    pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"] =
                        json!(i.to_string());
                    name
                }
            };
            pod["apiVersion"] = json!("v1");
            pod["kind"] = json!("Pod");
            pod["metadata"]["name"] = json!(name);
            pod["metadata"]["namespace"] = json!(NAMESPACE);
            pod["metadata"]["ownerReferences"] =
                json!([owner(owner_kind, &owner_name, &owner_uid)]);
            pod["spec"]["nodeName"] = json!(nodes[pods.len() % nodes.len()]);
            pods.push(pod);
        }
    }
    let path = format!("/api/v1{ns}/pods");
    let created: Vec<Result<Value>> = futures::stream::iter(pods)
        .map(|pod| post(client, &path, pod))
        .buffer_unordered(CREATES_IN_FLIGHT)
        .collect()
        .await;
    let ok = created.iter().filter(|r| r.is_ok()).count();
    if let Some(Err(e)) = created.into_iter().find(Result::is_err) {
        bail!("{ok} pods created, then: {e:#}");
    }
    Ok(ok)
}

fn owner(kind: &str, name: &str, object: &Value) -> Value {
    json!({ "apiVersion": "apps/v1", "kind": kind, "name": name,
            "uid": object["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true })
}

/// POST `body` to `path`; the created object.
async fn post(client: &kube::Client, path: &str, body: Value) -> Result<Value> {
    let request = http::Request::post(path)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body)?)?;
    client
        .request::<Value>(request)
        .await
        .with_context(|| format!("POST {path}"))
}

/// berthd.json as `helm template` renders the chart's ConfigMap with the
/// default values (the JSON block under `berthd.json: |`).
fn chart_config(scratch: &Path) -> Result<Value> {
    let kubeconfig = scratch.join("no-cluster.kubeconfig");
    std::fs::write(&kubeconfig, "")?;
    let yaml = Helm::V3.run(
        &kubeconfig,
        &scratch.join("helm"),
        &[
            "template",
            "berth",
            berth_cluster::CHART,
            "-n",
            berth_cluster::NAMESPACE,
            "--show-only",
            "templates/configmap.yaml",
        ],
    )?;
    let mut lines = yaml
        .lines()
        .skip_while(|l| l.trim() != "berthd.json: |")
        .skip(1);
    let first = lines
        .next()
        .context("no berthd.json in the rendered ConfigMap")?;
    let indent = first.len() - first.trim_start().len();
    let json: String = std::iter::once(first)
        .chain(lines.take_while(|l| l.len() > indent && l[..indent].trim().is_empty()))
        .map(|l| &l[indent..])
        .collect::<Vec<_>>()
        .join("\n");
    serde_json::from_str(&json).context("the rendered berthd.json")
}

fn start_berthd(
    binary: &Path,
    config: &Path,
    node: &str,
    socket: &Path,
    dir: &Path,
) -> Result<Berthd> {
    let log = std::fs::File::create(dir.join("berthd.log"))?;
    let child = Command::new(binary)
        .args(["serve", "--config"])
        .arg(config)
        .args(["--log-format", "json"])
        .env_clear()
        .env("BERTH_NODE_NAME", node)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    Ok(Berthd {
        child,
        socket: socket.to_path_buf(),
        binary: binary.to_path_buf(),
    })
}

async fn wait_pool_known(berthd: &Berthd) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = Command::new(&berthd.binary)
            .args(["pools", "--socket"])
            .arg(&berthd.socket)
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        if text
            .lines()
            .any(|l| l.split_whitespace().next() == Some(POOL))
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "berthd does not know pool {POOL}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn berthd_metrics(address: &str) -> Result<String> {
    let out = Command::new(helper_binary()?)
        .args(["http-body", address, "/metrics"])
        .output()?;
    if !out.status.success() {
        bail!(
            "GET {address}/metrics: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
