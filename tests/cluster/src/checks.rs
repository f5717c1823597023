//! What the scenarios check, against three independent views: the pod
//! objects (status.podIP/podIPs), the network namespaces (the address
//! really configured on the interface) and Berth's own records
//! (BerthAddress objects).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use k8s_openapi::api::core::v1::Pod;
use serde_json::Value;

use crate::cluster::Cluster;
use crate::readiness::wait_for;

/// One pod as every view agrees it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodAddress {
    pub name: String,
    pub uid: String,
    pub node: String,
    pub container_id: String,
    pub ip: String,
}

impl Cluster {
    /// Checks that each pod's podIP/podIPs are what its sandbox's ADD
    /// returned, that the address is configured on eth0 in the pod's
    /// namespace, and that exactly one BerthAddress holds it, attached to
    /// this pod's UID and container. Returns them in the order given.
    pub async fn verify_pods(&self, pods: &[Pod]) -> Result<Vec<PodAddress>> {
        let records = self.berth_addresses().await?;
        let mut out = Vec::new();
        for pod in pods {
            let name = pod.metadata.name.clone().context("pod name")?;
            let namespace = pod.metadata.namespace.clone().unwrap_or_default();
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            let status = pod.status.clone().unwrap_or_default();
            let ip = status
                .pod_ip
                .clone()
                .with_context(|| format!("{name} has no podIP"))?;
            let pod_ips: Vec<String> = status
                .pod_ips
                .iter()
                .flatten()
                .map(|p| p.ip.clone())
                .collect();
            let node = pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .context("unbound pod")?;
            let sandbox = self
                .node(&node)
                .kubelet()
                .sandbox(&namespace, &name)
                .with_context(|| format!("{namespace}/{name} has no sandbox on {node}"))?;
            ensure!(
                sandbox.pod.uid == uid,
                "{name}: the sandbox is for UID {}, the pod is {uid}",
                sandbox.pod.uid
            );
            let results: Vec<String> = sandbox
                .results
                .iter()
                .find(|(ifname, _)| ifname == "eth0")
                .map(|(_, ips)| ips.clone())
                .unwrap_or_default();
            ensure!(
                pod_ips == results,
                "{name}: podIPs {pod_ips:?} but the ADD results say {results:?}"
            );
            let eth0 = sandbox
                .in_netns
                .iter()
                .find(|(ifname, _)| ifname == "eth0")
                .map(|(_, a)| a.clone())
                .unwrap_or_default();
            ensure!(
                eth0.contains(&ip),
                "{name}: podIP {ip} is not on eth0 in its netns ({eth0:?})"
            );
            let holders: Vec<&Value> = records
                .iter()
                .filter(|r| r["spec"]["address"] == ip.as_str())
                .collect();
            ensure!(
                holders.len() == 1,
                "{name}: {ip} has {} BerthAddress objects: {holders:?}",
                holders.len()
            );
            let spec = &holders[0]["spec"];
            ensure!(
                spec["pod"]["uid"] == uid.as_str()
                    && spec["state"] == "Attached"
                    && spec["attachment"]["containerId"] == sandbox.container_id.as_str(),
                "{name}: the BerthAddress of {ip} is not this pod's live attachment: {spec}"
            );
            out.push(PodAddress {
                name,
                uid,
                node,
                container_id: sandbox.container_id,
                ip,
            });
        }
        Ok(out)
    }

    /// No address has two owners, in any view: across every node's
    /// sandboxes (ADD results and namespaces) each address appears once,
    /// BerthAddress objects name each (pool, address) once, and every
    /// Attached record is held by a sandbox that really runs.
    pub async fn verify_single_owners(&self) -> Result<usize> {
        let mut owners: HashMap<String, String> = HashMap::new();
        let mut live: HashMap<(String, String), String> = HashMap::new();
        for node in self.nodes() {
            for sandbox in node.kubelet().sandboxes() {
                for (ifname, ips) in &sandbox.in_netns {
                    for ip in ips {
                        let who = format!("{} {} on {}", sandbox.pod, ifname, node.name);
                        if let Some(other) = owners.insert(ip.clone(), who.clone()) {
                            bail!("{ip} is configured twice: {other} and {who}");
                        }
                    }
                }
                for (ifname, ips) in &sandbox.results {
                    let configured = sandbox
                        .in_netns
                        .iter()
                        .find(|(i, _)| i == ifname)
                        .map(|(_, a)| a);
                    for ip in ips {
                        ensure!(
                            configured.is_some_and(|a| a.contains(ip)),
                            "{}: ADD returned {ip} for {ifname} but the netns has {configured:?}",
                            sandbox.pod
                        );
                        live.insert((sandbox.container_id.clone(), ifname.clone()), ip.clone());
                    }
                }
            }
        }
        let records = self.berth_addresses().await?;
        let mut seen = BTreeMap::new();
        for record in &records {
            let spec = &record["spec"];
            let key = (spec["pool"].to_string(), spec["address"].to_string());
            ensure!(
                seen.insert(key.clone(), ()).is_none(),
                "two BerthAddress objects for {key:?}"
            );
            if spec["state"] == "Attached" {
                let attachment = (
                    spec["attachment"]["containerId"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    spec["attachment"]["ifname"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                );
                let held = live.get(&attachment);
                ensure!(
                    held.map(String::as_str) == spec["address"].as_str(),
                    "BerthAddress {} is Attached to {attachment:?}, which holds {held:?}",
                    spec["address"]
                );
            }
        }
        ensure!(
            live.len() <= records.len(),
            "{} live attachments but only {} BerthAddress objects",
            live.len(),
            records.len()
        );
        Ok(owners.len())
    }

    /// The row of `kubectl get berthpools <name>` as column → value.
    pub fn pool_row(&self, name: &str) -> Result<BTreeMap<String, String>> {
        let out = self.kubectl(&["get", "berthpools", name])?;
        let mut lines = out.lines();
        let header: Vec<&str> = lines
            .next()
            .context("no header")?
            .split_whitespace()
            .collect();
        let row: Vec<&str> = lines.next().context("no row")?.split_whitespace().collect();
        ensure!(header.len() == row.len(), "cannot read the row: {out}");
        Ok(header
            .into_iter()
            .map(String::from)
            .zip(row.into_iter().map(String::from))
            .collect())
    }

    /// Waits until every node's berthd lists pool `name` (`berthd pools`
    /// in its container).
    pub async fn wait_pool_known(&self, name: &str, timeout: Duration) -> Result<()> {
        for node in self.nodes() {
            let what = format!("{name} known on {}", node.name);
            wait_for(&what, timeout, &mut [], || async {
                let pools = node.berthd_cli(&["pools"]).await?;
                Ok(pools
                    .lines()
                    .any(|l| l.split_whitespace().next() == Some(name))
                    .then_some(()))
            })
            .await?;
        }
        Ok(())
    }

    /// The ADDs that failed so far, summed over every node's test kubelet.
    pub fn adds_failed(&self) -> u64 {
        self.nodes()
            .iter()
            .map(|n| n.kubelet().stats().adds_failed)
            .sum()
    }

    /// Waits until `kubectl get berthpools <name>` shows `allocated` of
    /// `total`; returns the row.
    pub async fn wait_pool_counts(
        &self,
        name: &str,
        allocated: u32,
        total: u32,
    ) -> Result<BTreeMap<String, String>> {
        let what = format!("berthpool {name} showing {allocated} of {total}");
        wait_for(&what, Duration::from_secs(30), &mut [], || async {
            let row = self.pool_row(name)?;
            let ok = row.get("ALLOCATED").map(String::as_str)
                == Some(allocated.to_string().as_str())
                && row.get("TOTAL").map(String::as_str) == Some(total.to_string().as_str());
            Ok(ok.then_some(row))
        })
        .await
    }

    /// The BerthAddress objects holding `ip`.
    pub async fn records_of(&self, ip: &str) -> Result<Vec<Value>> {
        Ok(self
            .berth_addresses()
            .await?
            .into_iter()
            .filter(|r| r["spec"]["address"] == ip)
            .collect())
    }
}
