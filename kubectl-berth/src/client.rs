//! The user's cluster connection, chosen as kubectl chooses it.

use crate::cli::Connection;
use anyhow::Context;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// A client for `--kubeconfig`/`--context`, else `$KUBECONFIG`,
/// `~/.kube/config` or the in-cluster service account.
pub async fn connect(connection: &Connection) -> anyhow::Result<Client> {
    let options = KubeConfigOptions {
        context: connection.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config = match &connection.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path)
                .with_context(|| format!("reading kubeconfig {}", path.display()))?;
            Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .with_context(|| format!("using kubeconfig {}", path.display()))?
        }
        None if connection.context.is_some() => Config::from_kubeconfig(&options)
            .await
            .context("loading the kubeconfig context")?,
        None => Config::infer()
            .await
            .context("no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not in a cluster")?,
    };
    Client::try_from(config).context("building the Kubernetes client")
}
