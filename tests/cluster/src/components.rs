//! The command lines of etcd, kube-apiserver and kube-controller-manager.
//! Everything listens on 127.0.0.1 only and keeps its state in the cluster's
//! temp dir.

use std::path::Path;
use std::process::Command;

use crate::binaries::Binaries;
use crate::pki::{Pki, FRONT_PROXY_CN};

/// Services get addresses from this range (the API server's own ClusterIP
/// is its first address). Only allocated, never routed: nothing is sent there.
pub const SERVICE_CIDR: &str = "10.96.0.0/16";
pub const SERVICE_IP: [u8; 4] = [10, 96, 0, 1];
/// The issuer of ServiceAccount tokens (the `iss` claim) and their default
/// audience.
pub const SERVICE_ACCOUNT_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

/// The controllers the tests need, under their canonical names. Node
/// lifecycle is left out on purpose: our nodes have no kubelet posting
/// heartbeats, and it would taint them and evict their pods.
pub const CONTROLLERS: &[&str] = &[
    "statefulset-controller",
    "replicaset-controller",
    "deployment-controller",
    "garbage-collector-controller",
    "namespace-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
];

/// The loopback ports one control plane listens on.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub etcd_client: u16,
    pub etcd_peer: u16,
    pub apiserver: u16,
    pub controller_manager: u16,
}

pub fn etcd(bin: &Binaries, dir: &Path, ports: Ports) -> Command {
    let client = format!("http://127.0.0.1:{}", ports.etcd_client);
    let peer = format!("http://127.0.0.1:{}", ports.etcd_peer);
    let mut cmd = Command::new(&bin.etcd);
    cmd.arg("--name=berth-test")
        .arg(format!("--data-dir={}", dir.join("etcd").display()))
        // Plain HTTP: only the API server, on loopback, ever connects.
        .arg(format!("--listen-client-urls={client}"))
        .arg(format!("--advertise-client-urls={client}"))
        .arg(format!("--listen-peer-urls={peer}"))
        .arg(format!("--initial-advertise-peer-urls={peer}"))
        .arg(format!("--initial-cluster=berth-test={peer}"))
        // The data dies with the temp dir; syncing it to disk would only
        // slow every write on a shared 2-core machine.
        .arg("--unsafe-no-fsync=true")
        .arg("--log-level=warn");
    cmd
}

pub fn apiserver(bin: &Binaries, dir: &Path, pki: &Pki, ports: Ports) -> Command {
    let mut cmd = Command::new(&bin.kube_apiserver);
    cmd.arg(format!(
        "--etcd-servers=http://127.0.0.1:{}",
        ports.etcd_client
    ))
    .arg("--bind-address=127.0.0.1")
    .arg("--advertise-address=127.0.0.1")
    .arg(format!("--secure-port={}", ports.apiserver))
    .arg(format!(
        "--cert-dir={}",
        dir.join("apiserver-certs").display()
    ))
    .arg(format!("--tls-cert-file={}", pki.apiserver.cert.display()))
    .arg(format!(
        "--tls-private-key-file={}",
        pki.apiserver.key.display()
    ))
    .arg(format!("--client-ca-file={}", pki.ca.cert.display()))
    // The aggregation layer's front proxy, as kubeadm sets it up; without
    // it every delegated authenticator (the controller manager's) logs a
    // missing request-header CA again and again. One CA signs it too:
    // only the CN below may assert users through headers.
    .arg(format!(
        "--requestheader-client-ca-file={}",
        pki.ca.cert.display()
    ))
    .arg(format!("--requestheader-allowed-names={FRONT_PROXY_CN}"))
    .arg("--requestheader-username-headers=X-Remote-User")
    .arg("--requestheader-group-headers=X-Remote-Group")
    .arg("--requestheader-extra-headers-prefix=X-Remote-Extra-")
    .arg(format!(
        "--proxy-client-cert-file={}",
        pki.front_proxy_client.cert.display()
    ))
    .arg(format!(
        "--proxy-client-key-file={}",
        pki.front_proxy_client.key.display()
    ))
    .arg("--authorization-mode=Node,RBAC")
    .arg(format!("--service-account-issuer={SERVICE_ACCOUNT_ISSUER}"))
    .arg(format!(
        "--service-account-key-file={}",
        pki.service_account_public_key.display()
    ))
    .arg(format!(
        "--service-account-signing-key-file={}",
        pki.service_account_key.display()
    ))
    .arg(format!("--service-cluster-ip-range={SERVICE_CIDR}"))
    // The `kubernetes` Service's endpoints would be 127.0.0.1, which
    // Endpoints validation refuses (loopback); nothing in-cluster dials
    // the API server through it, so do not reconcile them at all.
    .arg("--endpoint-reconciler-type=none")
    .arg("--allow-privileged=true")
    .arg("--profiling=false");
    cmd
}

pub fn controller_manager(bin: &Binaries, pki: &Pki, kubeconfig: &Path, port: u16) -> Command {
    let kubeconfig = kubeconfig.display();
    let mut cmd = Command::new(&bin.kube_controller_manager);
    cmd.arg(format!("--kubeconfig={kubeconfig}"))
        .arg(format!("--authentication-kubeconfig={kubeconfig}"))
        .arg(format!("--authorization-kubeconfig={kubeconfig}"))
        .arg(format!("--client-ca-file={}", pki.ca.cert.display()))
        .arg("--bind-address=127.0.0.1")
        .arg(format!("--secure-port={port}"))
        .arg(format!(
            "--tls-cert-file={}",
            pki.controller_manager_serving.cert.display()
        ))
        .arg(format!(
            "--tls-private-key-file={}",
            pki.controller_manager_serving.key.display()
        ))
        .arg(format!("--controllers={}", CONTROLLERS.join(",")))
        // Each controller acts as its own ServiceAccount, as on kubeadm
        // clusters: the bootstrap RBAC policy grants the controllers'
        // accounts their rights, not the controller manager's user.
        .arg("--use-service-account-credentials=true")
        .arg(format!(
            "--service-account-private-key-file={}",
            pki.service_account_key.display()
        ))
        .arg(format!("--root-ca-file={}", pki.ca.cert.display()))
        // One controller manager per cluster: no lease to wait for.
        .arg("--leader-elect=false")
        .arg("--cluster-name=berth-test");
    cmd
}
