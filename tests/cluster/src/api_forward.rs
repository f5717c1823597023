//! A node's path to the API server. The API server listens on the
//! machine's loopback; a node's berthd lives in the node's own network
//! namespace, where that loopback is not reachable. So, per node:
//!
//! * inside the node's namespace, `berth-cluster netns-proxy` listens on
//!   127.0.0.1:<the API server's port> and copies each connection to a
//!   unix socket in the node's dir (a path reaches across namespaces);
//! * in this process, a task accepts on that unix socket and copies each
//!   connection to the API server.
//!
//! TLS runs end to end through both copies, so the server certificate
//! (issued for 127.0.0.1) and the bearer tokens work unchanged: to berthd
//! the API server is simply at https://127.0.0.1:<port>, as
//! `KUBERNETES_SERVICE_HOST`/`PORT` say.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tokio::net::{TcpStream, UnixListener};
use tokio::task::JoinHandle;

use crate::helper::helper_binary;
use crate::netns::Netns;
use crate::process::Process;

pub struct ApiForward {
    /// Declared first: the namespace side stops before the unix side.
    _proxy: Process,
    accept: JoinHandle<()>,
    socket: PathBuf,
}

impl ApiForward {
    /// Starts both halves; `api` is the API server's loopback address.
    pub fn start(ns: &Netns, api: SocketAddr, dir: &Path) -> Result<Self> {
        let socket = dir.join("apiserver.sock");
        let _ = std::fs::remove_file(&socket);
        let listener =
            UnixListener::bind(&socket).with_context(|| format!("binding {}", socket.display()))?;
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(api).await {
                        // A reset on either side just ends this connection.
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        let mut proxy = ns.command(&helper_binary()?.to_string_lossy());
        proxy
            .arg("netns-proxy")
            .arg(format!("127.0.0.1:{}", api.port()))
            .arg(&socket);
        let proxy = Process::spawn("netns-proxy", proxy, dir)?;
        Ok(ApiForward {
            _proxy: proxy,
            accept,
            socket,
        })
    }
}

impl Drop for ApiForward {
    fn drop(&mut self) {
        self.accept.abort();
        let _ = std::fs::remove_file(&self.socket);
    }
}
