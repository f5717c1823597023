//! Reading the DaemonSet that `helm install` rendered into the API server
//! and turning its pod template into containers for one node, the way a
//! kubelet does: command/args combined with the image's entrypoint, env
//! (values and the downward API), volumes (hostPath, the ConfigMap
//! projection, emptyDir, the ServiceAccount token) and probes. Anything
//! the template uses that this does not understand is an error, never
//! silently dropped.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Container, PodSpec, Probe, Volume};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::container::{ContainerSpec, Mount};
use crate::image::Image;

/// Where the kubelet mounts a pod's ServiceAccount token.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// What differs per node when a pod of the DaemonSet runs there.
#[derive(Debug, Clone)]
pub struct PodContext {
    pub node_name: String,
    pub pod_name: String,
    pub namespace: String,
    pub host_ip: String,
    /// The node's "/" for hostPath volumes (a per-node dir).
    pub host_root: PathBuf,
    /// Per-pod volume dirs: `<volumes>/<volume name>`.
    pub volumes_dir: PathBuf,
    /// The token, ca.crt and namespace files the kubelet projects.
    pub service_account_dir: PathBuf,
    /// `KUBERNETES_SERVICE_HOST`/`_PORT` as the kubelet sets them.
    pub api_host: String,
    pub api_port: u16,
}

/// How the kubelet decides a container is ready.
#[derive(Debug, Clone)]
pub enum Readiness {
    /// GET `path` on `host:port` in the pod's (the node's) network.
    HttpGet {
        host: String,
        port: u16,
        path: String,
    },
    /// Run this argv in the container; exit 0 is ready.
    Exec(ContainerSpec),
}

#[derive(Debug, Clone)]
pub struct Resolved {
    pub init_containers: Vec<ContainerSpec>,
    pub containers: Vec<(ContainerSpec, Option<Readiness>)>,
}

/// The pod spec of `ds`.
pub fn pod_spec(ds: &DaemonSet) -> Result<&PodSpec> {
    ds.spec
        .template
        .spec
        .as_ref()
        .context("the DaemonSet has no pod template spec")
}

/// Every container of the template, resolved for one node.
pub fn resolve(spec: &PodSpec, image: &Image, ctx: &PodContext) -> Result<Resolved> {
    let init_containers = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| container(spec, c, image, ctx))
        .collect::<Result<_>>()?;
    let containers = spec
        .containers
        .iter()
        .map(|c| {
            let resolved = container(spec, c, image, ctx)?;
            let probe = match &c.readiness_probe {
                Some(probe) => Some(readiness(probe, c, &resolved, ctx)?),
                None => None,
            };
            Ok((resolved, probe))
        })
        .collect::<Result<_>>()?;
    Ok(Resolved {
        init_containers,
        containers,
    })
}

fn container(
    spec: &PodSpec,
    c: &Container,
    image: &Image,
    ctx: &PodContext,
) -> Result<ContainerSpec> {
    // Kubernetes' rule: `command` replaces the entrypoint and drops the
    // image's Cmd; `args` alone replaces the Cmd.
    let argv: Vec<String> = match (&c.command, &c.args) {
        (Some(command), Some(args)) => command.iter().chain(args).cloned().collect(),
        (Some(command), None) => command.clone(),
        (None, Some(args)) => image.entrypoint.iter().chain(args).cloned().collect(),
        (None, None) => image.entrypoint.iter().chain(&image.cmd).cloned().collect(),
    };
    let mut env = image.env.clone();
    let mut set = |name: &str, value: String| {
        env.retain(|(k, _)| k != name);
        env.push((name.to_string(), value));
    };
    if spec.host_network == Some(true) {
        set("HOSTNAME", ctx.node_name.clone());
    }
    set("KUBERNETES_SERVICE_HOST", ctx.api_host.clone());
    set("KUBERNETES_SERVICE_PORT", ctx.api_port.to_string());
    for var in c.env.iter().flatten() {
        let value = match (&var.value, &var.value_from) {
            (Some(value), _) => value.clone(),
            (None, Some(from)) => match &from.field_ref {
                Some(field) => field_value(&field.field_path, ctx)?,
                None => bail!(
                    "{}: env {} uses a source other than fieldRef",
                    c.name,
                    var.name
                ),
            },
            (None, None) => String::new(),
        };
        set(&var.name, value);
    }
    let mut mounts = Vec::new();
    for vm in c.volume_mounts.iter().flatten() {
        let volume = spec
            .volumes
            .iter()
            .flatten()
            .find(|v| v.name == vm.name)
            .with_context(|| format!("{}: no volume {}", c.name, vm.name))?;
        if vm.sub_path.is_some() {
            bail!("{}: subPath mounts are not supported", c.name);
        }
        mounts.push(Mount {
            source: volume_source(volume, ctx)?,
            target: vm.mount_path.clone(),
            read_only: vm.read_only == Some(true),
        });
    }
    if spec.automount_service_account_token != Some(false) {
        mounts.push(Mount {
            source: ctx.service_account_dir.clone(),
            target: SERVICE_ACCOUNT_DIR.to_string(),
            read_only: true,
        });
    }
    let read_only_root = c
        .security_context
        .as_ref()
        .and_then(|s| s.read_only_root_filesystem)
        == Some(true);
    Ok(ContainerSpec {
        name: c.name.clone(),
        argv,
        env,
        mounts,
        read_only_root,
    })
}

fn field_value(path: &str, ctx: &PodContext) -> Result<String> {
    Ok(match path {
        "spec.nodeName" => ctx.node_name.clone(),
        "metadata.name" => ctx.pod_name.clone(),
        "metadata.namespace" => ctx.namespace.clone(),
        "status.hostIP" | "status.podIP" => ctx.host_ip.clone(),
        other => bail!("fieldRef {other} is not supported"),
    })
}

/// The node-side directory behind a volume.
fn volume_source(volume: &Volume, ctx: &PodContext) -> Result<PathBuf> {
    if let Some(host) = &volume.host_path {
        let path = host_path(&ctx.host_root, &host.path);
        match host.type_.as_deref() {
            Some("DirectoryOrCreate") | Some("Directory") | None | Some("") => {
                std::fs::create_dir_all(&path)
                    .with_context(|| format!("creating {}", path.display()))?;
            }
            Some(other) => bail!("hostPath type {other} is not supported"),
        }
        return Ok(path);
    }
    let dir = ctx.volumes_dir.join(&volume.name);
    if volume.empty_dir.is_some() {
        std::fs::create_dir_all(&dir)?;
        return Ok(dir);
    }
    if volume.projected.is_some() || volume.config_map.is_some() {
        // Filled by the kubelet's ConfigMap sync before the pod starts.
        if !dir.is_dir() {
            bail!(
                "volume {} has not been synced to {}",
                volume.name,
                dir.display()
            );
        }
        return Ok(dir);
    }
    bail!(
        "volume {}: only hostPath, emptyDir, configMap and projected are supported",
        volume.name
    )
}

/// A node's `path` (absolute) under the node's root dir.
pub fn host_path(host_root: &Path, path: &str) -> PathBuf {
    host_root.join(path.trim_start_matches('/'))
}

fn readiness(
    probe: &Probe,
    c: &Container,
    resolved: &ContainerSpec,
    ctx: &PodContext,
) -> Result<Readiness> {
    if let Some(get) = &probe.http_get {
        let port = match &get.port {
            IntOrString::Int(n) => u16::try_from(*n)?,
            IntOrString::String(name) => c
                .ports
                .iter()
                .flatten()
                .find(|p| p.name.as_deref() == Some(name.as_str()))
                .and_then(|p| u16::try_from(p.container_port).ok())
                .with_context(|| format!("{}: no port named {name}", c.name))?,
        };
        return Ok(Readiness::HttpGet {
            // The probe's default host is the pod IP: for a hostNetwork
            // pod, the node's address.
            host: get.host.clone().unwrap_or_else(|| ctx.host_ip.clone()),
            port,
            path: get.path.clone().unwrap_or_else(|| "/".into()),
        });
    }
    if let Some(exec) = &probe.exec {
        let mut spec = resolved.clone();
        spec.name = format!("{}-probe", c.name);
        spec.argv = exec.command.clone().unwrap_or_default();
        return Ok(Readiness::Exec(spec));
    }
    bail!(
        "{}: only httpGet and exec readiness probes are supported",
        c.name
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(dir: &Path) -> PodContext {
        PodContext {
            node_name: "node-a".into(),
            pod_name: "berth-x1".into(),
            namespace: "kube-system".into(),
            host_ip: "10.250.0.1".into(),
            host_root: dir.join("host"),
            volumes_dir: dir.join("volumes"),
            service_account_dir: dir.join("sa"),
            api_host: "127.0.0.1".into(),
            api_port: 6443,
        }
    }

    fn image() -> Image {
        Image {
            archive: PathBuf::new(),
            rootfs: PathBuf::new(),
            entrypoint: vec!["/entry".into()],
            cmd: vec!["--help".into()],
            env: vec![("PATH".into(), "/usr/local/bin".into())],
        }
    }

    fn spec(pod: serde_json::Value) -> PodSpec {
        serde_json::from_value(pod).expect("pod spec")
    }

    #[test]
    fn command_env_and_volumes_are_resolved_as_a_kubelet_does() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let pod = spec(serde_json::json!({
            "hostNetwork": true,
            "containers": [{
                "name": "berthd",
                "command": ["/usr/local/bin/berthd", "serve"],
                "env": [
                    { "name": "BERTH_NODE_NAME", "valueFrom": { "fieldRef": { "fieldPath": "spec.nodeName" } } },
                    { "name": "POD_NAME", "valueFrom": { "fieldRef": { "fieldPath": "metadata.name" } } },
                    { "name": "RUST_LOG", "value": "info" },
                ],
                "ports": [{ "name": "metrics", "containerPort": 9464 }],
                "readinessProbe": { "httpGet": { "path": "/healthz", "port": "metrics" } },
                "securityContext": { "readOnlyRootFilesystem": true },
                "volumeMounts": [
                    { "name": "socket-dir", "mountPath": "/run/berth" },
                    { "name": "scratch", "mountPath": "/scratch", "readOnly": true },
                ],
            }],
            "initContainers": [{ "name": "init", "args": ["install"] }],
            "volumes": [
                { "name": "socket-dir", "hostPath": { "path": "/run/berth", "type": "DirectoryOrCreate" } },
                { "name": "scratch", "emptyDir": {} },
            ],
        }));
        let resolved = resolve(&pod, &image(), &context(dir.path()))?;
        assert_eq!(resolved.init_containers[0].argv, ["/entry", "install"]);
        let (berthd, probe) = &resolved.containers[0];
        assert_eq!(berthd.argv, ["/usr/local/bin/berthd", "serve"]);
        let env: std::collections::BTreeMap<_, _> = berthd.env.iter().cloned().collect();
        assert_eq!(env["BERTH_NODE_NAME"], "node-a");
        assert_eq!(env["POD_NAME"], "berth-x1");
        assert_eq!(env["HOSTNAME"], "node-a");
        assert_eq!(env["KUBERNETES_SERVICE_PORT"], "6443");
        assert_eq!(env["PATH"], "/usr/local/bin");
        assert!(berthd.read_only_root);
        let targets: Vec<_> = berthd
            .mounts
            .iter()
            .map(|m| (m.target.as_str(), m.read_only))
            .collect();
        assert_eq!(
            targets,
            [
                ("/run/berth", false),
                ("/scratch", true),
                (SERVICE_ACCOUNT_DIR, true)
            ]
        );
        assert_eq!(berthd.mounts[0].source, dir.path().join("host/run/berth"));
        assert!(
            berthd.mounts[0].source.is_dir(),
            "DirectoryOrCreate creates it"
        );
        match probe {
            Some(Readiness::HttpGet { host, port, path }) => {
                assert_eq!(
                    (host.as_str(), *port, path.as_str()),
                    ("10.250.0.1", 9464, "/healthz")
                );
            }
            other => panic!("unexpected probe {other:?}"),
        }
        Ok(())
    }

    #[test]
    fn what_it_cannot_run_is_an_error_not_a_silent_drop() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let cases = [
            serde_json::json!({ "containers": [{ "name": "c", "env": [
                { "name": "X", "valueFrom": { "secretKeyRef": { "name": "s", "key": "k" } } }] }] }),
            serde_json::json!({ "containers": [{ "name": "c", "env": [
                { "name": "X", "valueFrom": { "fieldRef": { "fieldPath": "metadata.uid" } } }] }] }),
            serde_json::json!({ "containers": [{ "name": "c",
                "volumeMounts": [{ "name": "v", "mountPath": "/v" }] }],
                "volumes": [{ "name": "v", "secret": { "secretName": "s" } }] }),
            serde_json::json!({ "containers": [{ "name": "c",
                "volumeMounts": [{ "name": "v", "mountPath": "/v", "subPath": "x" }] }],
                "volumes": [{ "name": "v", "emptyDir": {} }] }),
        ];
        for case in cases {
            let pod = spec(case.clone());
            assert!(
                resolve(&pod, &image(), &context(dir.path())).is_err(),
                "accepted {case}"
            );
        }
        Ok(())
    }
}
