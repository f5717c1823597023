//! Setting up the DaemonSet pod: the Pod object, its volumes and init
//! containers, and what the harness reads from the rendered template.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Pod, PodSpec};
use kube::api::PostParams;
use kube::Api;

use crate::container::ContainerSpec;
use crate::control_plane::ControlPlane;
use crate::daemonset;
use crate::image::Image;
use crate::kubelet::volumes;
use crate::netns::Netns;

const INIT_TIMEOUT: Duration = Duration::from_secs(60);
/// The volume holding berthd's socket, in the chart.
const SOCKET_VOLUME: &str = "socket-dir";

/// berthd's socket path inside its container: the chart's socket volume's
/// mountPath plus `berth.sock`.
pub(super) fn berthd_socket(spec: &PodSpec, berthd: &ContainerSpec) -> Result<String> {
    let container = spec
        .containers
        .iter()
        .find(|c| c.name == berthd.name)
        .context("the berthd container")?;
    let mount = container
        .volume_mounts
        .iter()
        .flatten()
        .find(|m| m.name == SOCKET_VOLUME)
        .with_context(|| format!("berthd does not mount {SOCKET_VOLUME}"))?;
    Ok(format!(
        "{}/berth.sock",
        mount.mount_path.trim_end_matches('/')
    ))
}

/// The node path behind the DaemonSet's hostPath volume `volume`.
pub fn host_dir_of(spec: &PodSpec, volume: &str, host_root: &Path) -> Result<PathBuf> {
    let path = spec
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name == volume)
        .and_then(|v| v.host_path.as_ref())
        .map(|h| h.path.clone())
        .with_context(|| format!("the DaemonSet has no hostPath volume {volume}"))?;
    Ok(daemonset::host_path(host_root, &path))
}

/// Syncs every ConfigMap-backed volume of `spec` into `dir/<volume>`.
pub(super) async fn sync_volumes(
    client: &kube::Client,
    namespace: &str,
    spec: &PodSpec,
    dir: &Path,
) -> Result<()> {
    for volume in spec.volumes.iter().flatten() {
        if volume.config_map.is_none() && volume.projected.is_none() {
            continue;
        }
        let files = volumes::volume_files(client, namespace, volume).await?;
        volumes::write_atomically(&dir.join(&volume.name), &files)?;
    }
    Ok(())
}

/// Runs an init container to completion, its output in `<dir>/<name>.log`.
pub(super) async fn run_to_completion(
    spec: &ContainerSpec,
    image: &Image,
    ns: &Netns,
    dir: &Path,
) -> Result<()> {
    let mut cmd = spec.command(&image.rootfs, ns)?;
    let out = tokio::time::timeout(
        INIT_TIMEOUT,
        tokio::task::spawn_blocking(move || cmd.output()),
    )
    .await
    .with_context(|| {
        format!(
            "init container {} did not finish in {INIT_TIMEOUT:?}",
            spec.name
        )
    })???;
    std::fs::write(
        dir.join(format!("{}.log", spec.name)),
        [out.stdout.as_slice(), out.stderr.as_slice()].concat(),
    )?;
    if !out.status.success() {
        bail!(
            "init container {} failed ({}):\n{}{}",
            spec.name,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Creates the DaemonSet's pod for `node` as the DaemonSet controller
/// would: owned by the DaemonSet, already bound to the node.
pub(super) async fn create_pod_object(
    cp: &ControlPlane,
    ds: &DaemonSet,
    node: &str,
) -> Result<Pod> {
    let namespace = ds.metadata.namespace.clone().unwrap_or_default();
    let ds_name = ds.metadata.name.clone().unwrap_or_default();
    let template = &ds.spec.template;
    let mut spec = template.spec.clone().context("DaemonSet pod spec")?;
    spec.node_name = Some(node.to_string());
    let mut meta = template.metadata.clone().unwrap_or_default();
    meta.generate_name = Some(format!("{ds_name}-"));
    meta.namespace = Some(namespace.clone());
    meta.owner_references = Some(vec![
        k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "apps/v1".into(),
            kind: "DaemonSet".into(),
            name: ds_name,
            uid: ds.metadata.uid.clone().unwrap_or_default(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        },
    ]);
    let pod = Pod {
        metadata: meta,
        spec: Some(spec),
        status: None,
    };
    Api::<Pod>::namespaced(cp.client().await?, &namespace)
        .create(&PostParams::default(), &pod)
        .await
        .with_context(|| format!("creating the DaemonSet pod for {node}"))
}
