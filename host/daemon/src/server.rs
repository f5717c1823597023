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

use crate::accept_backoff::AcceptBackoff;
use crate::phases::{Phase, PhaseClock};
use crate::service::Service;
use berth_core::limits::{ANSWER_GRACE_MS, SOCKET_CONNECTIONS_MAX};
use berth_proto::{ErrorBody, ErrorKind, Request, Response, MAX_FRAME_BYTES};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;

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
        let permits = Arc::new(Semaphore::new(in_flight_max));
        let connections = Arc::new(Semaphore::new(SOCKET_CONNECTIONS_MAX));
        let mut backoff = AcceptBackoff::default();
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        backoff.accepted();
                        // Over the bound the connection is closed at once:
                        // the plugin retries (code 11) rather than queueing.
                        let Ok(connection) = connections.clone().try_acquire_owned() else {
                            tracing::debug!("too many open connections; closing a new one");
                            continue;
                        };
                        let clock = PhaseClock::start(std::time::Instant::now());
                        let deadline = Instant::now() + timeout;
                        let (service, permits) = (service.clone(), permits.clone());
                        tokio::spawn(async move {
                            serve_connection(stream, service, permits, deadline, clock).await;
                            drop(connection);
                        });
                    }
                    Err(error) => backoff.failed("socket", &error).await,
                },
            }
        }
        // Every permit back means no request is in flight any more.
        let all = u32::try_from(in_flight_max).unwrap_or(u32::MAX);
        if let Ok(_all_permits) = permits.acquire_many(all).await {
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

async fn serve_connection(
    mut stream: UnixStream,
    service: Arc<Service>,
    permits: Arc<Semaphore>,
    deadline: Instant,
    mut clock: PhaseClock,
) {
    if !peer_is_trusted(&stream) {
        tracing::warn!("refused a connection from another user");
        return;
    }
    let request = match tokio::time::timeout_at(deadline, read_request(&mut stream)).await {
        Ok(Ok(request)) => request,
        Ok(Err(message)) => {
            let response = Response::Error(ErrorBody {
                kind: ErrorKind::InvalidRequest,
                message,
            });
            write_response(&mut stream, &response, deadline).await;
            return;
        }
        Err(_elapsed) => {
            tracing::debug!("client sent no complete request in time");
            return;
        }
    };
    clock.mark(Phase::Read);
    let Ok(Ok(permit)) = tokio::time::timeout_at(deadline, permits.acquire_owned()).await else {
        let response = Response::Error(ErrorBody {
            kind: ErrorKind::TryAgainLater,
            message: "berthd is busy: no request slot freed up before the request's deadline"
                .to_owned(),
        });
        write_response(&mut stream, &response, deadline).await;
        return;
    };
    let std_deadline = deadline.into_std();
    let is_add = matches!(request, Request::Add(_));
    let metrics_service = service.clone();
    let handled = tokio::task::spawn_blocking(move || {
        clock.mark(Phase::Dispatch);
        let response = service.handle(request, std_deadline, &mut clock);
        clock.mark(Phase::Reply);
        (response, clock)
    })
    .await;
    drop(permit);
    let (response, mut clock) = match handled {
        Ok(done) => done,
        Err(join_error) => {
            let response = Response::Error(ErrorBody {
                kind: ErrorKind::Internal,
                message: format!("request handler failed: {join_error}"),
            });
            (response, PhaseClock::start(std::time::Instant::now()))
        }
    };
    clock.mark(Phase::Return);
    write_response(&mut stream, &response, deadline).await;
    clock.mark(Phase::Write);
    if is_add {
        metrics_service.metrics.add_phases.record(&clock);
    }
}

fn peer_is_trusted(stream: &UnixStream) -> bool {
    match stream.peer_cred() {
        Ok(cred) => cred.uid() == crate::sys::effective_uid(),
        Err(_) => false,
    }
}

async fn read_request(stream: &mut UnixStream) -> Result<Request, String> {
    let mut len_buf = [0u8; 4];
    stream
        .read_exact(&mut len_buf)
        .await
        .map_err(|e| format!("reading request length: {e}"))?;
    let len_bytes = u32::from_be_bytes(len_buf);
    if len_bytes > MAX_FRAME_BYTES {
        return Err(format!(
            "request of {len_bytes} bytes exceeds the limit of {MAX_FRAME_BYTES} bytes"
        ));
    }
    let mut body = vec![0u8; len_bytes as usize];
    stream
        .read_exact(&mut body)
        .await
        .map_err(|e| format!("reading request body: {e}"))?;
    serde_json::from_slice(&body).map_err(|e| format!("request is not a valid berth message: {e}"))
}

async fn write_response(stream: &mut UnixStream, response: &Response, deadline: Instant) {
    let mut frame = Vec::with_capacity(256);
    if let Err(error) = berth_proto::write_frame(&mut frame, response) {
        // Too large for a frame (or unencodable): say so rather than hang up.
        tracing::error!(%error, "could not encode a response");
        frame.clear();
        let fallback = Response::Error(ErrorBody {
            kind: ErrorKind::Internal,
            message: format!("berthd could not send its answer: {error}"),
        });
        if berth_proto::write_frame(&mut frame, &fallback).is_err() {
            return;
        }
    }
    // The answer gets a moment past the deadline: the work is done, and a
    // client still reading should learn its outcome.
    let write_by = deadline.max(Instant::now() + Duration::from_millis(ANSWER_GRACE_MS));
    match tokio::time::timeout_at(write_by, stream.write_all(&frame)).await {
        Ok(Ok(())) => {}
        // The client gave up; the state change (if any) is already durable
        // and a retried ADD is idempotent, so nothing to undo here.
        Ok(Err(error)) => tracing::debug!(%error, "client went away before the answer"),
        Err(_elapsed) => tracing::debug!("client did not read the answer in time"),
    }
}
