//! A running control plane: etcd, kube-apiserver and kube-controller-manager
//! in one temp dir, stopped (by PID) when the value is dropped.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::Api;
use tempfile::TempDir;

use crate::binaries::Binaries;
use crate::components::{self, Ports, SERVICE_IP};
use crate::kubeconfig::{self, Credentials};
use crate::pki::Pki;
use crate::process::{free_ports, Process};
use crate::readiness::{health_ok, wait_for};

/// Set to keep the temp dir (logs, kubeconfigs, etcd data) after the drop.
pub const KEEP_DIR_ENV: &str = "BERTH_CLUSTER_KEEP_DIR";

/// Generous: the machines are 2 shared cores and a cold API server installs
/// its bootstrap RBAC policy and priority levels before `/readyz` says ok.
const APISERVER_TIMEOUT: Duration = Duration::from_secs(180);
const CONTROLLERS_TIMEOUT: Duration = Duration::from_secs(120);

pub struct ControlPlane {
    /// Started in order etcd, apiserver, controller manager; stopped in
    /// reverse. Declared before `dir` so they are gone before it is removed.
    processes: Vec<Process>,
    pki: Pki,
    binaries: Binaries,
    server: String,
    admin_kubeconfig: PathBuf,
    dir: Option<TempDir>,
    dir_path: PathBuf,
}

impl ControlPlane {
    /// Starts a fresh control plane and returns once the API server is ready
    /// and the controllers run (the `default` ServiceAccount exists).
    pub async fn start() -> Result<Self> {
        let binaries = Binaries::locate()?;
        let dir = tempfile::Builder::new()
            .prefix("berth-cluster-")
            .tempdir()
            .context("creating the cluster's temp dir")?;
        let dir_path = dir.path().to_path_buf();
        let pki = Pki::generate(&dir_path, IpAddr::V4(Ipv4Addr::from(SERVICE_IP)))?;
        let [etcd_client, etcd_peer, apiserver, controller_manager] = free_ports()?;
        let ports = Ports {
            etcd_client,
            etcd_peer,
            apiserver,
            controller_manager,
        };
        let server = format!("https://127.0.0.1:{}", ports.apiserver);
        let admin_kubeconfig = dir_path.join("admin.kubeconfig");
        kubeconfig::write(
            &admin_kubeconfig,
            &server,
            &pki.ca.cert,
            "berth-admin",
            Credentials::ClientCert(&pki.admin),
        )?;
        let mut cp = ControlPlane {
            processes: Vec::new(),
            pki,
            binaries,
            server,
            admin_kubeconfig,
            dir: Some(dir),
            dir_path,
        };
        // From here on an error drops `cp`, which stops what was started.
        cp.start_etcd_and_apiserver(ports).await?;
        cp.start_controller_manager(ports).await?;
        Ok(cp)
    }

    async fn start_etcd_and_apiserver(&mut self, ports: Ports) -> Result<()> {
        let dir = &self.dir_path;
        let etcd = components::etcd(&self.binaries, dir, ports);
        self.processes.push(Process::spawn("etcd", etcd, dir)?);
        let apiserver = components::apiserver(&self.binaries, dir, &self.pki, ports);
        self.processes
            .push(Process::spawn("kube-apiserver", apiserver, dir)?);
        // The API server retries etcd on its own and its /readyz includes
        // the etcd check, so one wait covers both.
        let client = self.client().await?;
        let mut watched: Vec<&mut Process> = self.processes.iter_mut().collect();
        wait_for(
            "kube-apiserver /readyz",
            APISERVER_TIMEOUT,
            &mut watched,
            || health_ok(&client, "/readyz"),
        )
        .await
    }

    async fn start_controller_manager(&mut self, ports: Ports) -> Result<()> {
        let dir = &self.dir_path;
        let kcm_kubeconfig = dir.join("controller-manager.kubeconfig");
        kubeconfig::write(
            &kcm_kubeconfig,
            &self.server,
            &self.pki.ca.cert,
            "kube-controller-manager",
            Credentials::ClientCert(&self.pki.controller_manager),
        )?;
        let command = components::controller_manager(
            &self.binaries,
            &self.pki,
            &kcm_kubeconfig,
            ports.controller_manager,
        );
        self.processes
            .push(Process::spawn("kube-controller-manager", command, dir)?);

        // Its serving certificate comes from our CA, so an ordinary client
        // (admin credentials, CA trusted) can ask its /healthz.
        let health_kubeconfig = dir.join("controller-manager-health.kubeconfig");
        kubeconfig::write(
            &health_kubeconfig,
            &format!("https://127.0.0.1:{}", ports.controller_manager),
            &self.pki.ca.cert,
            "berth-admin",
            Credentials::ClientCert(&self.pki.admin),
        )?;
        let kcm_client = kubeconfig::client(&health_kubeconfig).await?;
        let accounts: Api<ServiceAccount> = Api::namespaced(self.client().await?, "default");
        let mut watched: Vec<&mut Process> = self.processes.iter_mut().collect();
        wait_for(
            "kube-controller-manager /healthz",
            CONTROLLERS_TIMEOUT,
            &mut watched,
            || health_ok(&kcm_client, "/healthz"),
        )
        .await?;
        // Healthy is not yet working: the `default` ServiceAccount, made by
        // the serviceaccount controller, shows the controllers are running
        // (and pods can be admitted in that namespace).
        wait_for(
            "the serviceaccount controller (default/default)",
            CONTROLLERS_TIMEOUT,
            &mut watched,
            || async { Ok(accounts.get_opt("default").await?.map(|_| ())) },
        )
        .await
    }

    /// A client authenticated as cluster admin (group system:masters).
    pub async fn client(&self) -> Result<kube::Client> {
        kubeconfig::client(&self.admin_kubeconfig).await
    }

    /// The admin kubeconfig, for kubectl, helm and `kube::Client`.
    pub fn admin_kubeconfig(&self) -> &Path {
        &self.admin_kubeconfig
    }

    /// `https://127.0.0.1:<port>`.
    pub fn server_url(&self) -> &str {
        &self.server
    }

    /// The cluster CA certificate (PEM file) every serving cert chains to.
    pub fn ca_cert(&self) -> &Path {
        &self.pki.ca.cert
    }

    /// The temp dir holding logs, certificates, kubeconfigs and etcd data.
    pub fn dir(&self) -> &Path {
        &self.dir_path
    }

    pub fn binaries(&self) -> &Binaries {
        &self.binaries
    }

    /// `kubectl --kubeconfig <admin>`, ready for more arguments.
    pub fn kubectl(&self) -> Command {
        let mut cmd = Command::new(&self.binaries.kubectl);
        cmd.arg("--kubeconfig").arg(&self.admin_kubeconfig);
        cmd
    }

    /// The PIDs of etcd, kube-apiserver and kube-controller-manager.
    pub fn pids(&self) -> Vec<u32> {
        self.processes.iter().map(Process::pid).collect()
    }

    /// Each component's name (`etcd`, `kube-apiserver`,
    /// `kube-controller-manager`) and PID.
    pub fn components(&self) -> Vec<(&str, u32)> {
        self.processes.iter().map(|p| (p.name(), p.pid())).collect()
    }

    /// kube-apiserver's `/metrics` (Prometheus text), read as admin.
    pub async fn apiserver_metrics(&self) -> Result<String> {
        let request = http::Request::get("/metrics").body(Vec::new())?;
        Ok(self.client().await?.request_text(request).await?)
    }

    /// A component's log file (`etcd`, `kube-apiserver`,
    /// `kube-controller-manager`).
    pub fn log_path(&self, component: &str) -> PathBuf {
        self.dir_path.join(format!("{component}.log"))
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        // Controllers first, etcd last: no component outlives what it needs
        // long enough to log a storm of connection errors.
        while let Some(process) = self.processes.pop() {
            drop(process);
        }
        if std::env::var_os(KEEP_DIR_ENV).is_some() {
            if let Some(dir) = self.dir.take() {
                eprintln!("berth-cluster: kept {}", dir.keep().display());
            }
        }
    }
}
