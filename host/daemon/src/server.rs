//! The unix socket the CNI plugin and the CLI talk to.
//!
//! Root only: the socket file is created with mode 0600 (umask set before
//! bind, so there is no window) and every peer's uid is checked against
//! ours. One framed request per connection; frames are bounded before they
//! are read.
//!
//! A connection takes a request slot (the semaphore bounding requests in
//! flight) only once its whole request has arrived, so idle connections
//! cannot starve real ones; connections themselves are bounded too. Every
//! request carries a deadline from the moment it was accepted: one whose
//! deadline passed before the daemon got to it is answered "try again"
//! and never executed, because the plugin has told the runtime it failed.
//! Shutdown waits for every request in flight.
//!
//! Two paths serve a connection. Threads blocked in `accept`
//! (`acceptors.rs`) serve the request they accepted themselves, start to
//! finish: an ADD meets no hand-off between threads, which on a busy node
//! costs more than the ADD's own work. A connection whose request does
//! not arrive at once, that finds no free request slot, or that the last
//! waiting acceptor took goes to the async path (`connection.rs`) instead,
//! which waits on it without holding a thread. This file binds the socket
//! and starts and stops both.

use crate::connection::Shared;
use crate::limits::{SOCKET_ACCEPTOR_THREADS, SOCKET_CONNECTIONS_MAX};
use crate::service::Service;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};

pub struct SocketServer {
    listener: UnixListener,
    path: PathBuf,
}

impl SocketServer {
    /// Binds `path`, replacing a stale socket file left by a crashed daemon
    /// but refusing to steal one a live daemon is still answering on.
    pub fn bind(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
            // Only a stale socket is ever removed: a typo pointing
            // socketPath at the store (or anything else) must not delete it.
            Ok(meta) if !meta.file_type().is_socket() => anyhow::bail!(
                "{} exists and is not a socket; refusing to replace it (check socketPath)",
                path.display()
            ),
            Ok(_) => {
                if std::os::unix::net::UnixStream::connect(path).is_ok() {
                    anyhow::bail!(
                        "another daemon is answering on {}; stop it first",
                        path.display()
                    );
                }
                std::fs::remove_file(path)?;
            }
        }
        let listener = with_private_umask(|| UnixListener::bind(path))?;
        Ok(Self {
            listener,
            path: path.to_owned(),
        })
    }

    /// Serves until `shutdown` turns true, then waits for requests in flight.
    pub async fn run(
        self,
        service: Arc<Service>,
        in_flight_max: usize,
        timeout: Duration,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let shared = Arc::new(Shared {
            service,
            permits: Arc::new(Semaphore::new(in_flight_max)),
            connections: Arc::new(Semaphore::new(SOCKET_CONNECTIONS_MAX)),
            timeout,
            runtime: tokio::runtime::Handle::current(),
            idle_acceptors: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
        });
        let acceptors =
            match crate::acceptors::start(&self.listener, &shared, SOCKET_ACCEPTOR_THREADS) {
                Ok(threads) => threads,
                Err(error) => {
                    tracing::error!(%error, "could not start the socket's acceptor threads");
                    return;
                }
            };
        // Closed or changed: either way it is time to stop.
        let _ = shutdown.changed().await;
        shared
            .stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if let Err(error) = crate::sys::shut_listener(&self.listener) {
            tracing::error!(%error, "could not stop accepting on the socket");
        }
        let joined = tokio::task::spawn_blocking(move || {
            acceptors.into_iter().all(|thread| thread.join().is_ok())
        })
        .await;
        if !matches!(joined, Ok(true)) {
            tracing::error!("an acceptor thread failed");
        }
        // Every permit back means no request is in flight any more.
        let all = u32::try_from(in_flight_max).unwrap_or(u32::MAX);
        if let Ok(_all_permits) = shared.permits.acquire_many(all).await {
            tracing::info!("all in-flight requests finished");
        }
        if let Err(error) = std::fs::remove_file(&self.path) {
            tracing::warn!(%error, path = %self.path.display(), "could not remove socket");
        }
    }
}

fn with_private_umask<T>(f: impl FnOnce() -> std::io::Result<T>) -> std::io::Result<T> {
    // chmod after bind would leave a window where others could connect.
    let previous = crate::sys::set_umask(0o177);
    let result = f();
    crate::sys::set_umask(previous);
    result
}
