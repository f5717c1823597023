//! A pod sandbox: the pod's network namespace and its CNI attachments,
//! made by ADD and undone by DEL, under one container id. A "restart"
//! is a new sandbox: DEL, then ADD with a fresh container id.

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Result;
use serde_json::{json, Value};

use super::cni::{pod_args, result_ips, Call, CniRuntime, Network, CNI_VERSION};
use crate::netns::Netns;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh container id: 64 hex digits, like a runtime's, unique per
/// process run (the pid and a counter, padded).
pub fn new_container_id() -> String {
    let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    format!("{:032x}{:032x}", std::process::id(), n)
}

/// Which pod a sandbox belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PodKey {
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

impl std::fmt::Display for PodKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// One interface of the pod on one network.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub network: Network,
    pub ifname: String,
    /// The ADD result, once ADD succeeded.
    pub result: Option<Value>,
}

impl Attachment {
    pub fn ips(&self) -> Vec<String> {
        self.result.as_ref().map(result_ips).unwrap_or_default()
    }
}

#[derive(Debug)]
pub struct Sandbox {
    pub pod: PodKey,
    pub container_id: String,
    pub netns: Netns,
    pub attachments: Vec<Attachment>,
}

impl Sandbox {
    /// A namespace for `pod` and the attachments to make, not yet made.
    pub fn new(pod: PodKey, networks: Vec<(Network, String)>) -> Result<Self> {
        Self::with_id(pod, new_container_id(), networks)
    }

    /// [`Self::new`] under a container id chosen before (the kubelet
    /// marks the pod with it before the namespace exists).
    pub fn with_id(
        pod: PodKey,
        container_id: String,
        networks: Vec<(Network, String)>,
    ) -> Result<Self> {
        let netns = Netns::create("pod")?;
        Ok(Sandbox {
            pod,
            container_id,
            netns,
            attachments: networks
                .into_iter()
                .map(|(network, ifname)| Attachment {
                    network,
                    ifname,
                    result: None,
                })
                .collect(),
        })
    }

    fn call<'a>(&'a self, command: &'a str, ifname: &'a str, args: &'a str) -> Call<'a> {
        Call {
            command,
            container_id: &self.container_id,
            netns: Some(&self.netns),
            ifname,
            cni_args: args,
        }
    }

    fn args(&self) -> String {
        pod_args(
            &self.pod.namespace,
            &self.pod.name,
            &self.pod.uid,
            &self.container_id,
        )
    }

    /// ADD on every network in order; stops at the first failure (the
    /// caller then tears the sandbox down, as a kubelet does).
    pub fn add(&mut self, runtime: &CniRuntime) -> Result<()> {
        let args = self.args();
        for i in 0..self.attachments.len() {
            if self.attachments[i].result.is_some() {
                continue;
            }
            let attachment = &self.attachments[i];
            let result = runtime.exec(
                &attachment.network,
                &self.call("ADD", &attachment.ifname, &args),
                None,
            )?;
            self.attachments[i].result = Some(result);
        }
        Ok(())
    }

    /// DEL on every network, in reverse, whether its ADD succeeded or not
    /// (DEL must succeed for what was never added). The first error is
    /// returned after trying them all; the caller retries.
    pub fn del(&self, runtime: &CniRuntime) -> Result<()> {
        let args = self.args();
        let mut first_error = None;
        for attachment in self.attachments.iter().rev() {
            let prev = attachment.result.clone().map(|mut r| {
                r["cniVersion"] = json!(CNI_VERSION);
                ("prevResult", r)
            });
            if let Err(e) = runtime.exec(
                &attachment.network,
                &self.call("DEL", &attachment.ifname, &args),
                prev,
            ) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// (container id, ifname) of every attachment on `network`: what the
    /// runtime reports as valid in a CNI GC.
    pub fn valid_attachments(&self, network: &str) -> Vec<(String, String)> {
        self.attachments
            .iter()
            .filter(|a| a.network.name() == network)
            .map(|a| (self.container_id.clone(), a.ifname.clone()))
            .collect()
    }

    /// The addresses every interface really has in the pod's namespace.
    pub fn addresses_in_netns(&self) -> Result<Vec<(String, Vec<String>)>> {
        self.attachments
            .iter()
            .map(|a| Ok((a.ifname.clone(), self.netns.addresses(&a.ifname)?)))
            .collect()
    }

    /// The ADD results' addresses, primary interface first.
    pub fn ips(&self) -> Vec<String> {
        self.attachments.iter().flat_map(Attachment::ips).collect()
    }

    /// The primary interface's addresses: what a kubelet reports as the
    /// pod's IPs (secondary networks are Multus' business, not podIPs).
    pub fn pod_ips(&self) -> Vec<String> {
        self.attachments
            .first()
            .map(Attachment::ips)
            .unwrap_or_default()
    }
}
