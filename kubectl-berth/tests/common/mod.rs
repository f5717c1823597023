//! A real control plane (etcd, kube-apiserver, controllers; no nodes)
//! with Berth's CRDs installed, objects planted directly through the API
//! as berthd (or a fault) would leave them, and the `kubectl-berth`
//! binary run against it with the admin kubeconfig.

// Each test binary uses a different subset.
#![allow(dead_code, clippy::unwrap_used)]

pub mod spider;

use anyhow::{ensure, Context, Result};
use berth_cluster::{wait_for, ControlPlane};
use berth_core::chain::{Phase, StepOutcome, TraceStep};
use berth_core::pool::PoolSpec;
use berth_core::record::{AddressRecord, RecordState};
use berth_kube::convert::{berth_address, berth_pool};
use berth_kube::{BerthAddress, BerthPool, PoolStatusWriter};
use berth_policy_sdk::{Candidate, Decision, Identity, Retention};
use berth_proto::{Attachment, PodRef};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

pub const TIMEOUT: Duration = Duration::from_secs(60);

pub struct Env {
    pub cp: ControlPlane,
    pub client: Client,
}

impl Env {
    /// A control plane with Berth's CRDs (from `berth_kube::crds`, as the
    /// chart ships them) established.
    pub async fn start() -> Result<Self> {
        let cp = ControlPlane::start().await?;
        let client = cp.client().await?;
        let env = Env { cp, client };
        env.install_crds(berth_kube::crds().into_iter().map(|(_, c)| c).collect())
            .await?;
        Ok(env)
    }

    pub async fn install_crds(&self, crds: Vec<CustomResourceDefinition>) -> Result<()> {
        let api: Api<CustomResourceDefinition> = Api::all(self.client.clone());
        for crd in &crds {
            api.create(&PostParams::default(), crd).await?;
        }
        for crd in crds {
            let name = crd.metadata.name.clone().unwrap_or_default();
            wait_for(
                &format!("CRD {name} established"),
                TIMEOUT,
                &mut [],
                || async {
                    let crd = api.get(&name).await?;
                    let established = crd
                        .status
                        .and_then(|s| s.conditions)
                        .unwrap_or_default()
                        .iter()
                        .any(|c| c.type_ == "Established" && c.status == "True");
                    Ok(established.then_some(()))
                },
            )
            .await?;
        }
        Ok(())
    }

    /// `kubectl-berth --kubeconfig <admin> args...`.
    pub fn berth(&self, args: &[&str]) -> Output {
        self.berth_as(self.cp.admin_kubeconfig(), args)
    }

    pub fn berth_as(&self, kubeconfig: &Path, args: &[&str]) -> Output {
        berth_with(kubeconfig, args)
    }

    /// stdout of a run that must succeed (exit 0).
    pub fn berth_ok(&self, args: &[&str]) -> Result<String> {
        berth_ok_with(self.cp.admin_kubeconfig(), args)
    }

    /// `kubectl apply` of `object` (written to a file of the control
    /// plane's directory); fails with kubectl's stderr.
    pub fn apply(&self, object: &Value) -> Result<()> {
        let file = format!(
            "{}-{}.json",
            object["kind"].as_str().unwrap_or("object"),
            object["metadata"]["name"].as_str().unwrap_or("x")
        );
        let path = self.cp.dir().join(file);
        std::fs::write(&path, object.to_string())?;
        let out = self
            .cp
            .kubectl()
            .args(["apply", "-f"])
            .arg(&path)
            .output()?;
        ensure!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    }

    /// Parsed `-o json` of a run that must succeed.
    pub fn berth_json(&self, args: &[&str]) -> Result<Value> {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        let text = self.berth_ok(&all)?;
        serde_json::from_str(&text).with_context(|| format!("not JSON: {text}"))
    }

    pub async fn create_pool(&self, name: &str, subnet: &str, ips: &[&str]) -> Result<BerthPool> {
        let spec = PoolSpec {
            name: name.to_owned(),
            subnet: subnet.to_owned(),
            ips: ips.iter().map(|s| (*s).to_owned()).collect(),
            ..PoolSpec::default()
        };
        self.create_pool_spec(&spec).await
    }

    pub async fn create_pool_spec(&self, spec: &PoolSpec) -> Result<BerthPool> {
        let api: Api<BerthPool> = Api::all(self.client.clone());
        Ok(api
            .create(&PostParams::default(), &berth_pool(spec))
            .await?)
    }

    /// A BerthAddress as berthd writes it for `record`.
    pub async fn plant(&self, record: &AddressRecord) -> Result<BerthAddress> {
        let api: Api<BerthAddress> = Api::all(self.client.clone());
        Ok(api
            .create(&PostParams::default(), &berth_address(record, &record.node))
            .await?)
    }

    /// Every pool's status, as berthd's pool sync writes it.
    pub async fn write_pool_status(&self) -> Result<()> {
        PoolStatusWriter::new(self.client.clone())
            .recompute_all()
            .await?;
        Ok(())
    }

    /// A pod (Pending: there are no nodes) whose status then reports
    /// `ips`, as a kubelet would after the CNI ADD.
    pub async fn pod_with_ips(&self, namespace: &str, name: &str, ips: &[&str]) -> Result<Pod> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let pod: Pod = serde_json::from_value(json!({
            "metadata": { "name": name, "labels": { "app": name } },
            "spec": { "containers": [{ "name": "app", "image": "example.invalid/app:1" }] },
        }))?;
        let created = api.create(&PostParams::default(), &pod).await?;
        if ips.is_empty() {
            return Ok(created);
        }
        let status = json!({ "status": {
            "phase": "Running",
            "podIP": ips[0],
            "podIPs": ips.iter().map(|ip| json!({ "ip": ip })).collect::<Vec<_>>(),
        }});
        Ok(api
            .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
            .await?)
    }

    pub async fn addresses(&self) -> Result<Vec<BerthAddress>> {
        let api: Api<BerthAddress> = Api::all(self.client.clone());
        Ok(api.list(&Default::default()).await?.items)
    }
}

/// A record as berthd writes it at ADD: attached to `pod` (uid `uid`),
/// with a trace from the default policy when there is an identity.
/// `kubectl-berth --kubeconfig <kubeconfig> args...`.
pub fn berth_with(kubeconfig: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-berth"))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running kubectl-berth: {e}"))
}

/// stdout of [`berth_with`] that must succeed (exit 0).
pub fn berth_ok_with(kubeconfig: &Path, args: &[&str]) -> Result<String> {
    let out = berth_with(kubeconfig, args);
    ensure!(
        out.status.success(),
        "kubectl-berth {args:?} exited {:?}: {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    Ok(String::from_utf8(out.stdout)?)
}

pub fn attached(
    pool: &str,
    address: &str,
    pod: (&str, &str, &str),
    identity: Option<Identity>,
    node: &str,
) -> AddressRecord {
    let address: std::net::IpAddr = address.parse().unwrap();
    let mut trace = Vec::new();
    if let Some(id) = &identity {
        trace.push(TraceStep {
            policy: "sticky-statefulset".into(),
            phase: Phase::Identify,
            outcome: StepOutcome::Identified(Some(id.clone())),
        });
        trace.push(TraceStep {
            policy: "sticky-statefulset".into(),
            phase: Phase::Evaluate,
            outcome: StepOutcome::Decided(Decision::Pick(Candidate {
                pool: pool.into(),
                address: address.to_string(),
            })),
        });
    }
    AddressRecord {
        pool: pool.into(),
        address,
        network: "berth-test".into(),
        attachment: Some(Attachment {
            container_id: format!("c0ffee{}", pod.1.replace('-', "")),
            ifname: "eth0".into(),
        }),
        pod: PodRef {
            namespace: pod.0.into(),
            name: pod.1.into(),
            uid: pod.2.into(),
        },
        interface: "eth0".into(),
        identity,
        state: RecordState::Attached,
        node: node.into(),
        owner: None,
        stateful_set: None,
        created_at_unix_secs: now() - 3600,
        trace,
    }
}

/// The same record after its pod's DEL kept it for the identity.
pub fn retained(mut record: AddressRecord, since: u64, expires: Option<u64>) -> AddressRecord {
    record.attachment = None;
    record.state = RecordState::Retained {
        since_unix_secs: since,
        expires_at_unix_secs: expires,
    };
    record
}

pub fn sticky(key: &str) -> Option<Identity> {
    Some(Identity {
        key: key.into(),
        retention: Retention::KeepUntilRetired(0),
    })
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The rows of a column table, as header → cell maps.
pub fn table(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    // Column starts: where each header word begins.
    let mut starts = Vec::new();
    let mut prev_space = true;
    for (i, c) in header.char_indices() {
        if c != ' ' && prev_space {
            starts.push(i);
        }
        prev_space = c == ' ';
    }
    let names: Vec<&str> = header.split_whitespace().collect();
    lines
        .take_while(|l| !l.trim().is_empty())
        .map(|line| {
            names
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let start = starts[i].min(line.len());
                    let end = starts
                        .get(i + 1)
                        .copied()
                        .unwrap_or(line.len())
                        .min(line.len());
                    ((*name).to_owned(), line[start..end].trim().to_owned())
                })
                .collect()
        })
        .collect()
}
