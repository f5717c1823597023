//! A whole test cluster: the control plane, the chart installed by a
//! genuine helm, and N nodes each running the chart's DaemonSet pod
//! (berthd from the image) and a test kubelet, plus a scheduler.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ApiResource, DynamicObject, ListParams};
use kube::Api;
use serde_json::Value;

use crate::config::ClusterConfig;
use crate::control_plane::ControlPlane;
use crate::image::Image;
use crate::kubelet::scheduler::{Schedulable, Scheduler};
use crate::node::{ClusterNode, NodeStart};
use crate::readiness::wait_for;

pub const RELEASE: &str = "berth";
pub const NAMESPACE: &str = "kube-system";
pub const CHART: &str = "charts/berth";
/// The chart's DaemonSet, by its labels.
const DS_SELECTOR: &str = "app.kubernetes.io/instance=berth,app.kubernetes.io/name=berth";

pub struct Cluster {
    // Drop order: the scheduler, the nodes (kubelets, berthds,
    // namespaces), then the control plane.
    _scheduler: Scheduler,
    nodes: Vec<ClusterNode>,
    /// Nodes stopped by [`Cluster::halt_node`], kept for their logs.
    halted: Vec<ClusterNode>,
    schedulable: Schedulable,
    config: ClusterConfig,
    values_file: PathBuf,
    daemon_set: DaemonSet,
    control_plane: ControlPlane,
}

impl Cluster {
    pub async fn start(config: ClusterConfig) -> Result<Self> {
        let started = Instant::now();
        // The image build (minutes when cold, seconds when current) runs
        // while the control plane starts.
        let profile = config.image;
        let image = tokio::task::spawn_blocking(move || Image::get_profile(profile));
        let control_plane = ControlPlane::start().await?;
        let image = image.await??;
        let values_file = control_plane.dir().join("values.json");
        std::fs::write(&values_file, serde_json::to_vec_pretty(&config.values)?)?;
        let scratch = control_plane.dir().join("helm");
        let values_arg = values_file.to_string_lossy().into_owned();
        config.helm.run(
            control_plane.admin_kubeconfig(),
            &scratch,
            &[
                "install",
                RELEASE,
                CHART,
                "-n",
                NAMESPACE,
                "-f",
                &values_arg,
            ],
        )?;
        let daemon_set = read_daemon_set(&control_plane).await?;

        let schedulable: Schedulable = Arc::new(Mutex::new(Vec::new()));
        let scheduler = Scheduler::start(control_plane.client().await?, schedulable.clone());
        let mut nodes = Vec::new();
        for (index, spec) in config.nodes.iter().enumerate() {
            let node = ClusterNode::start(
                spec,
                NodeStart {
                    control_plane: &control_plane,
                    image: image.clone(),
                    daemon_set: &daemon_set,
                    index,
                },
            )
            .await
            .with_context(|| format!("starting node {}", spec.name))?;
            nodes.push(node);
            if let Ok(mut s) = schedulable.lock() {
                s.push(spec.name.clone());
            }
        }
        eprintln!(
            "berth-cluster: {} nodes with berthd ready in {:.1?} (dir {})",
            nodes.len(),
            started.elapsed(),
            control_plane.dir().display()
        );
        Ok(Cluster {
            _scheduler: scheduler,
            nodes,
            halted: Vec::new(),
            schedulable,
            config,
            values_file,
            daemon_set,
            control_plane,
        })
    }

    pub fn control_plane(&self) -> &ControlPlane {
        &self.control_plane
    }

    pub async fn client(&self) -> Result<kube::Client> {
        self.control_plane.client().await
    }

    /// The running nodes.
    pub fn nodes(&self) -> &[ClusterNode] {
        &self.nodes
    }

    pub fn node(&self, name: &str) -> &ClusterNode {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .unwrap_or_else(|| panic!("no node {name}"))
    }

    /// The DaemonSet as `helm install` rendered it.
    pub fn daemon_set(&self) -> &DaemonSet {
        &self.daemon_set
    }

    /// `kubectl args...` with the admin kubeconfig, in the repository root;
    /// stdout, or an error with stderr ([`ControlPlane::kubectl_ok`]).
    pub fn kubectl(&self, args: &[&str]) -> Result<String> {
        self.control_plane.kubectl_ok(args)
    }

    /// `kubectl apply` of one object given as JSON.
    pub fn apply(&self, object: &Value) -> Result<String> {
        let name = object["metadata"]["name"].as_str().unwrap_or("object");
        let kind = object["kind"].as_str().unwrap_or("kind");
        let path = self
            .control_plane
            .dir()
            .join(format!("apply-{kind}-{name}.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(object)?)?;
        self.kubectl(&["apply", "-f", &path.to_string_lossy()])
    }

    /// `helm upgrade` of the release with the cluster's values file plus
    /// `extra` arguments (e.g. `--set ipam.enableStatefulSet=false`).
    pub fn helm_upgrade(&self, extra: &[&str]) -> Result<String> {
        let values = self.values_file.to_string_lossy().into_owned();
        let mut args = vec!["upgrade", RELEASE, CHART, "-n", NAMESPACE, "-f", &values];
        args.extend_from_slice(extra);
        self.config.helm.run(
            self.control_plane.admin_kubeconfig(),
            &self.control_plane.dir().join("helm"),
            &args,
        )
    }

    /// Reads the DaemonSet back from the API server.
    pub async fn read_daemon_set(&self) -> Result<DaemonSet> {
        read_daemon_set(&self.control_plane).await
    }

    /// Every BerthAddress object (as JSON).
    pub async fn berth_addresses(&self) -> Result<Vec<Value>> {
        let resource = ApiResource {
            group: "berth.io".into(),
            version: "v1alpha1".into(),
            api_version: "berth.io/v1alpha1".into(),
            kind: "BerthAddress".into(),
            plural: "berthaddresses".into(),
        };
        let api: Api<DynamicObject> = Api::all_with(self.client().await?, &resource);
        api.list(&ListParams::default())
            .await?
            .items
            .into_iter()
            .map(|o| Ok(serde_json::to_value(o)?))
            .collect()
    }

    /// The pods of `namespace` matching `selector`.
    pub async fn pods(&self, namespace: &str, selector: &str) -> Result<Vec<Pod>> {
        Ok(Api::<Pod>::namespaced(self.client().await?, namespace)
            .list(&ListParams::default().labels(selector))
            .await?
            .items)
    }

    /// Waits until exactly `count` pods match, all Running and Ready with a
    /// podIP, none terminating; returns them sorted by name.
    pub async fn wait_pods_ready(
        &self,
        namespace: &str,
        selector: &str,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<Pod>> {
        let what = format!("{count} ready pods {selector} in {namespace}");
        wait_for(&what, timeout, &mut [], || async {
            self.check_berthds()?;
            let mut pods = self.pods(namespace, selector).await?;
            let ready = pods.len() == count
                && pods
                    .iter()
                    .all(|p| p.metadata.deletion_timestamp.is_none() && is_ready(p));
            pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
            Ok(ready.then_some(pods))
        })
        .await
    }

    /// An error if any node's berthd has exited.
    pub fn check_berthds(&self) -> Result<()> {
        self.nodes.iter().try_for_each(ClusterNode::check_berthd)
    }

    /// Fails if any berthd ever logged an authorization failure: the
    /// chart's RBAC must cover every call berthd makes.
    pub fn assert_no_forbidden(&self) -> Result<()> {
        for node in self.nodes.iter().chain(&self.halted) {
            let log = node.berthd_log()?;
            let bad: Vec<&str> = log.lines().filter(|l| is_forbidden(l)).collect();
            ensure!(
                bad.is_empty(),
                "berthd on {} was refused by RBAC ({}):\n{}",
                node.name,
                node.berthd_log_path().display(),
                bad.join("\n")
            );
        }
        Ok(())
    }

    /// Stops node `name` as if it died (no DEL for its pods) and takes it
    /// out of scheduling; its Node object stays until the test deletes it.
    /// From then on [`Self::nodes`] leaves it out.
    pub fn halt_node(&mut self, name: &str) {
        if let Ok(mut s) = self.schedulable.lock() {
            s.retain(|n| n != name);
        }
        if let Some(i) = self.nodes.iter().position(|n| n.name == name) {
            let mut node = self.nodes.remove(i);
            node.halt();
            self.halted.push(node);
        }
    }
}

/// A berthd log line that reports an HTTP 403 from the API server.
pub fn is_forbidden(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    lower.contains("forbidden")
        || lower.contains("code: 403")
        || lower.contains("\"code\":403")
        || lower.contains(" 403 ")
}

/// Running, Ready=True, with a podIP.
pub fn is_ready(pod: &Pod) -> bool {
    let Some(status) = &pod.status else {
        return false;
    };
    status.phase.as_deref() == Some("Running")
        && status.pod_ip.is_some()
        && status
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "Ready" && c.status == "True")
}

/// The DaemonSet as the API server holds it, read back with kubectl as
/// an operator would (`kubectl get ds -o json`).
async fn read_daemon_set(cp: &ControlPlane) -> Result<DaemonSet> {
    let mut kubectl = cp.kubectl();
    kubectl.args([
        "get",
        "ds",
        "-n",
        NAMESPACE,
        "-l",
        DS_SELECTOR,
        "-o",
        "json",
    ]);
    let out = tokio::task::spawn_blocking(move || kubectl.output()).await??;
    ensure!(
        out.status.success(),
        "kubectl get ds: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Value = serde_json::from_slice(&out.stdout)?;
    let items = list["items"].as_array().cloned().unwrap_or_default();
    match <[Value; 1]>::try_from(items) {
        Ok([ds]) => Ok(serde_json::from_value(ds)?),
        Err(items) => bail!(
            "expected one DaemonSet {DS_SELECTOR}, found {}",
            items.len()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::is_forbidden;

    #[test]
    fn berthd_403_lines_are_recognised() {
        // As berthd logs them (kube-rs errors, through tracing's JSON).
        let refused = [
            r#"{"level":"WARN","fields":{"message":"listing BerthPools failed","error":"list berthpools: 403 Forbidden: berthpools.berth.io is forbidden: User \"system:serviceaccount:kube-system:berth\" cannot list resource"}}"#,
            r#"{"level":"WARN","fields":{"message":"GC could not list nodes","error":"ApiError: nodes is forbidden: User \"x\" (Status { code: 403 })"}}"#,
        ];
        for line in refused {
            assert!(is_forbidden(line), "{line}");
        }
        let fine = r#"{"level":"INFO","fields":{"message":"allocated","pod":"default/web-403","ips":"[\"10.6.168.103/16\"]"}}"#;
        assert!(!is_forbidden(fine), "{fine}");
    }
}
