//! What both paths of the socket server share (`Shared`, the framing of
//! answers) and the async path: a connection handed off by an acceptor
//! thread is finished here without holding a thread (see `server.rs`).

use crate::frame_buffer::FrameBuffer;
use crate::limits::ANSWER_GRACE_MS;
use crate::phases::{Phase, PhaseClock};
use crate::service::Service;
use berth_proto::{ErrorBody, ErrorKind, Request, Response};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

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
