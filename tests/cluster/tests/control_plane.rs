//! The control plane is real: controllers act on what we create, kubectl
//! talks to it, RBAC refuses a ServiceAccount with no rights, and dropping
//! it leaves no process behind. Fails (never skips) without the binaries.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use berth_cluster::ControlPlane;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod, Secret, ServiceAccount};
use kube::api::{ListParams, ObjectMeta, PostParams};
use kube::Api;
use serde_json::json;

const NS: &str = "cluster-test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_plane_runs_controllers_kubectl_and_rbac() -> Result<()> {
    let started = Instant::now();
    let cluster = ControlPlane::start().await?;
    eprintln!("control plane ready in {:?}", started.elapsed());
    let client = cluster.client().await?;
    cluster.create_namespace(NS).await?;

    deployment_gets_its_pods(&client).await?;
    kubectl_lists_them(&cluster)?;
    nodes_are_ready(&cluster).await?;
    service_account_is_refused_secrets(&cluster, &client).await?;

    let pids = cluster.pids();
    ensure!(
        pids.len() == 3,
        "expected etcd, apiserver, controller manager"
    );
    ensure!(
        pids.iter().all(|pid| alive(*pid)),
        "a component died: {pids:?}"
    );
    drop(cluster);
    let left: Vec<u32> = pids.into_iter().filter(|pid| alive(*pid)).collect();
    ensure!(left.is_empty(), "processes outlived the cluster: {left:?}");
    Ok(())
}

/// The deployment and replicaset controllers turn one Deployment into a
/// ReplicaSet and two Pods. They stay Pending: there is no scheduler.
async fn deployment_gets_its_pods(client: &kube::Client) -> Result<()> {
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": { "name": "web" },
        "spec": {
            "replicas": 2,
            "selector": { "matchLabels": { "app": "web" } },
            "template": {
                "metadata": { "labels": { "app": "web" } },
                "spec": { "containers": [{ "name": "web", "image": "example.invalid/web:1" }] },
            },
        },
    }))?;
    Api::<Deployment>::namespaced(client.clone(), NS)
        .create(&PostParams::default(), &deployment)
        .await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let list = pods.list(&ListParams::default().labels("app=web")).await?;
        if list.items.len() == 2 {
            for pod in &list.items {
                let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
                ensure!(phase == Some("Pending"), "unexpected phase {phase:?}");
                let owner = &pod.metadata.owner_references.as_ref().context("no owner")?[0];
                ensure!(owner.kind == "ReplicaSet", "owned by {}", owner.kind);
            }
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the controllers made {} pods, not 2", list.items.len());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The kubectl we built reads the admin kubeconfig and sees the pods.
fn kubectl_lists_them(cluster: &ControlPlane) -> Result<()> {
    let out = cluster.kubectl().args(["get", "pods", "-A"]).output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let web_pods = stdout
        .lines()
        .filter(|l| l.starts_with(NS) && l.contains("web-"))
        .count();
    ensure!(web_pods == 2, "kubectl get pods -A:\n{stdout}");
    Ok(())
}

async fn nodes_are_ready(cluster: &ControlPlane) -> Result<()> {
    let created = cluster
        .create_node("node-a", &[("topology.kubernetes.io/zone", "zone-a")])
        .await?;
    let fetched = Api::<Node>::all(cluster.client().await?)
        .get("node-a")
        .await?;
    for node in [created, fetched] {
        let labels = node.metadata.labels.unwrap_or_default();
        ensure!(
            labels
                .get("topology.kubernetes.io/zone")
                .map(String::as_str)
                == Some("zone-a")
        );
        let conditions = node.status.and_then(|s| s.conditions).unwrap_or_default();
        ensure!(
            conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True"),
            "node-a is not Ready: {conditions:?}"
        );
    }
    Ok(())
}

/// A ServiceAccount with no RoleBinding authenticates (its token is valid)
/// but RBAC denies it: 403 on secrets, from the real authorizer.
async fn service_account_is_refused_secrets(
    cluster: &ControlPlane,
    admin: &kube::Client,
) -> Result<()> {
    let account = ServiceAccount {
        metadata: ObjectMeta {
            name: Some("nobody".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    Api::<ServiceAccount>::namespaced(admin.clone(), NS)
        .create(&PostParams::default(), &account)
        .await?;
    let kubeconfig = cluster.kubeconfig_for_service_account(NS, "nobody").await?;
    let client = client_from(&kubeconfig).await?;
    match Api::<Secret>::namespaced(client, NS)
        .list(&ListParams::default())
        .await
    {
        Err(kube::Error::Api(status)) if status.code == 403 => {
            ensure!(
                status
                    .message
                    .contains("system:serviceaccount:cluster-test:nobody"),
                "403 for someone else: {}",
                status.message
            );
            Ok(())
        }
        other => bail!("expected 403 listing secrets, got {other:?}"),
    }
}

async fn client_from(path: &Path) -> Result<kube::Client> {
    let kubeconfig = kube::config::Kubeconfig::read_from(path)?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await?;
    Ok(kube::Client::try_from(config)?)
}

/// Our children are reaped on drop, so a PID without /proc is gone (not a
/// zombie waiting to be waited for).
fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}
