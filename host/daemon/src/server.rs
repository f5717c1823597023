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
//! waiting acceptor took goes to the async path here instead, which waits
//! on it without holding a thread.

use crate::frame_buffer::FrameBuffer;
use crate::phases::{Phase, PhaseClock};
use crate::service::Service;
use berth_core::limits::{ANSWER_GRACE_MS, SOCKET_ACCEPTOR_THREADS, SOCKET_CONNECTIONS_MAX};
use berth_proto::{ErrorBody, ErrorKind, Request, Response};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

pub struct SocketServer {
    listener: UnixListener,
    path: PathBuf,
}

/// What both paths share.
pub(crate) struct Shared {
    pub service: Arc<Service>,
    /// Request slots: a request holds one while the daemon works on it.
    pub permits: Arc<Semaphore>,
    /// Open connections, idle or not.
    pub connections: Arc<Semaphore>,
    pub timeout: Duration,
    pub runtime: tokio::runtime::Handle,
    /// Acceptor threads waiting in `accept` right now.
    pub idle_acceptors: AtomicUsize,
    pub stopping: AtomicBool,
}

impl Shared {
    /// Gives a connection (and what was read of its request) to the async
    /// path, which waits on it without holding a thread.
    pub fn hand_off(
        self: &Arc<Self>,
        stream: std::os::unix::net::UnixStream,
        frame: FrameBuffer,
        deadline: std::time::Instant,
        clock: PhaseClock,
        connection: OwnedSemaphorePermit,
    ) {
        let shared = self.clone();
        self.runtime.spawn(async move {
            let stream = match stream
                .set_nonblocking(true)
                .and_then(|()| UnixStream::from_std(stream))
            {
                Ok(stream) => stream,
                Err(error) => {
                    tracing::warn!(%error, "could not hand a connection to the async path");
                    return;
                }
            };
            let deadline = Instant::from_std(deadline);
            serve_connection(stream, frame, &shared, deadline, clock).await;
            drop(connection);
        });
    }
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

/// The async path: finishes reading the request, waits for a request slot
/// until the deadline, runs the request on a blocking thread, answers.
async fn serve_connection(
    mut stream: UnixStream,
    mut frame: FrameBuffer,
    shared: &Arc<Shared>,
    deadline: Instant,
    mut clock: PhaseClock,
) {
    if !peer_is_trusted(&stream) {
        tracing::warn!("refused a connection from another user");
        return;
    }
    let request =
        match tokio::time::timeout_at(deadline, read_request(&mut stream, &mut frame)).await {
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
    let permits = shared.permits.clone();
    let Ok(Ok(permit)) = tokio::time::timeout_at(deadline, permits.acquire_owned()).await else {
        write_response(&mut stream, &busy(), deadline).await;
        return;
    };
    let std_deadline = deadline.into_std();
    let is_add = matches!(request, Request::Add(_));
    let service = shared.service.clone();
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
        shared.service.metrics.add_phases.record(&clock);
    }
}

/// The answer to a request that found no slot before its deadline.
fn busy() -> Response {
    Response::Error(ErrorBody {
        kind: ErrorKind::TryAgainLater,
        message: "berthd is busy: no request slot freed up before the request's deadline"
            .to_owned(),
    })
}

fn peer_is_trusted(stream: &UnixStream) -> bool {
    match stream.peer_cred() {
        Ok(cred) => cred.uid() == crate::sys::effective_uid(),
        Err(_) => false,
    }
}

async fn read_request(stream: &mut UnixStream, frame: &mut FrameBuffer) -> Result<Request, String> {
    let mut chunk = vec![0u8; 4096];
    loop {
        let missing = frame.missing()?;
        if missing == 0 {
            return frame.decode();
        }
        let want = missing.min(chunk.len());
        let read = stream
            .read(&mut chunk[..want])
            .await
            .map_err(|e| format!("reading the request: {e}"))?;
        if read == 0 {
            return Err("the connection closed before the whole request arrived".to_owned());
        }
        frame.extend(&chunk[..read]);
    }
}

/// The answer as one frame; an answer that cannot be framed becomes an
/// internal error saying so rather than a hang-up.
pub(crate) fn encode_response(response: &Response) -> Option<Vec<u8>> {
    let mut frame = Vec::with_capacity(256);
    if let Err(error) = berth_proto::write_frame(&mut frame, response) {
        tracing::error!(%error, "could not encode a response");
        frame.clear();
        let fallback = Response::Error(ErrorBody {
            kind: ErrorKind::Internal,
            message: format!("berthd could not send its answer: {error}"),
        });
        berth_proto::write_frame(&mut frame, &fallback).ok()?;
    }
    Some(frame)
}

/// When an answer must be written by: the answer gets a moment past the
/// deadline, since the work is done and a client still reading should
/// learn its outcome.
pub(crate) fn write_by(deadline: std::time::Instant) -> std::time::Instant {
    deadline.max(std::time::Instant::now() + Duration::from_millis(ANSWER_GRACE_MS))
}

async fn write_response(stream: &mut UnixStream, response: &Response, deadline: Instant) {
    let Some(frame) = encode_response(response) else {
        return;
    };
    let write_by = Instant::from_std(write_by(deadline.into_std()));
    match tokio::time::timeout_at(write_by, stream.write_all(&frame)).await {
        Ok(Ok(())) => {}
        // The client gave up; the state change (if any) is already durable
        // and a retried ADD is idempotent, so nothing to undo here.
        Ok(Err(error)) => tracing::debug!(%error, "client went away before the answer"),
        Err(_elapsed) => tracing::debug!("client did not read the answer in time"),
    }
}
