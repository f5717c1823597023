//! Kubeconfig files for the cluster. They are written as JSON (YAML's
//! superset, read by kubectl, helm and kube-rs alike) with every certificate
//! and key embedded, so a file stays valid wherever it is copied (a node's
//! berthd may read it from another directory or root).

use std::path::Path;

use anyhow::{Context, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use crate::pki::CertFiles;

/// How a kubeconfig's user authenticates.
pub enum Credentials<'a> {
    /// A client certificate signed by the cluster CA.
    ClientCert(&'a CertFiles),
    /// A bearer token, e.g. a ServiceAccount's from the TokenRequest API.
    Token(&'a str),
}

/// Writes a kubeconfig for `server` (trusting `ca_cert`) to `path`, with one
/// context named `context_name` that is also the current one.
pub fn write(
    path: &Path,
    server: &str,
    ca_cert: &Path,
    context_name: &str,
    credentials: Credentials<'_>,
) -> Result<()> {
    let user = match credentials {
        Credentials::ClientCert(files) => json!({
            "client-certificate-data": embed(&files.cert)?,
            "client-key-data": embed(&files.key)?,
        }),
        Credentials::Token(token) => json!({ "token": token }),
    };
    let config: Value = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{
            "name": "berth-test",
            "cluster": {
                "server": server,
                "certificate-authority-data": embed(ca_cert)?,
            },
        }],
        "users": [{ "name": context_name, "user": user }],
        "contexts": [{
            "name": context_name,
            "context": { "cluster": "berth-test", "user": context_name },
        }],
        "current-context": context_name,
        "preferences": {},
    });
    let text = serde_json::to_string_pretty(&config)?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// A kube-rs client from a kubeconfig file.
pub async fn client(path: &Path) -> Result<kube::Client> {
    let kubeconfig = kube::config::Kubeconfig::read_from(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .with_context(|| format!("loading {}", path.display()))?;
    kube::Client::try_from(config).context("building a kube client")
}

fn embed(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(STANDARD.encode(bytes))
}
