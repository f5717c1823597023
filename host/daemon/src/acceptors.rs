//! The socket's fast path: a few threads blocked in `accept`, each serving
//! the request it accepted from first byte to answer on its own thread.
//!
//! The async path costs an ADD three hand-offs between threads (accepting
//! task, blocking pool, back to the task to write), each a wake-up that a
//! busy node may delay by a scheduler slice; measured, they were a third
//! of berthd's share of an ADD. Here the kernel wakes one acceptor, and
//! that thread reads, plans, commits and answers.
//!
//! What the async path guaranteed still holds:
//! * Accepting never stalls: an acceptor that finds no other acceptor
//!   waiting hands its connection to the async path and goes back to
//!   `accept`, so every connection is accepted (and its deadline starts)
//!   when it arrives, however many requests are being served.
//! * Idle connections take no request slot and hold no thread for long:
//!   a request that has not arrived after `SOCKET_PROMPT_READ_MS`, or that
//!   finds no free slot, moves to the async path with what was read.
//! * The deadline rule: the service refuses to plan past the deadline.

use crate::accept_backoff::AcceptBackoff;
use crate::connection::{encode_response, write_by, Shared};
use crate::frame_buffer::FrameBuffer;
use crate::limits::SOCKET_PROMPT_READ_MS;
use crate::phases::{Phase, PhaseClock};
use berth_proto::{ErrorBody, ErrorKind, Request, Response};
use std::io::{ErrorKind as IoErrorKind, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::OwnedSemaphorePermit;

/// Starts `count` acceptor threads on `listener`.
pub(crate) fn start(
    listener: &UnixListener,
    shared: &Arc<Shared>,
    count: usize,
) -> std::io::Result<Vec<JoinHandle<()>>> {
    (0..count)
        .map(|i| {
            let listener = listener.try_clone()?;
            let shared = shared.clone();
            std::thread::Builder::new()
                .name(format!("berth-accept-{i}"))
                .spawn(move || accept_loop(&listener, &shared))
        })
        .collect()
}

fn accept_loop(listener: &UnixListener, shared: &Arc<Shared>) {
    let mut backoff = AcceptBackoff::default();
    loop {
        shared.idle_acceptors.fetch_add(1, SeqCst);
        let accepted = listener.accept();
        // Acceptors other than this one still waiting in `accept`.
        let others_waiting = shared.idle_acceptors.fetch_sub(1, SeqCst) - 1;
        if shared.stopping.load(SeqCst) {
            return;
        }
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                backoff.failed_blocking("socket", &error);
                continue;
            }
        };
        backoff.accepted();
        let clock = PhaseClock::start(Instant::now());
        let deadline = Instant::now() + shared.timeout;
        // Over the bound the connection is closed at once: the plugin
        // retries (code 11) rather than queueing.
        let Ok(connection) = shared.connections.clone().try_acquire_owned() else {
            tracing::debug!("too many open connections; closing a new one");
            continue;
        };
        let accepted = Accepted {
            stream,
            deadline,
            clock,
            connection,
        };
        if others_waiting == 0 {
            // The only one accepting: keep it that way.
            accepted.hand_off(shared, FrameBuffer::default());
        } else {
            accepted.serve(shared);
        }
    }
}

struct Accepted {
    stream: UnixStream,
    deadline: Instant,
    clock: PhaseClock,
    connection: OwnedSemaphorePermit,
}

/// How the request arrived on an acceptor thread.
enum Arrival {
    Complete,
    /// Not all there within the prompt wait: the async path waits for it.
    Slow,
    /// Answered with an error (oversized, or the client hung up).
    Done,
}

impl Accepted {
    fn hand_off(self, shared: &Arc<Shared>, frame: FrameBuffer) {
        shared.hand_off(
            self.stream,
            frame,
            self.deadline,
            self.clock,
            self.connection,
        );
    }

    fn serve(mut self, shared: &Arc<Shared>) {
        let trusted =
            crate::sys::peer_uid(&self.stream).is_ok_and(|uid| uid == crate::sys::effective_uid());
        if !trusted {
            tracing::warn!("refused a connection from another user");
            return;
        }
        let mut frame = FrameBuffer::default();
        match self.read_promptly(&mut frame) {
            Arrival::Complete => {}
            Arrival::Slow => return self.hand_off(shared, frame),
            Arrival::Done => return,
        }
        let request = match frame.decode() {
            Ok(request) => request,
            Err(message) => return self.answer(&invalid(message)),
        };
        self.clock.mark(Phase::Read);
        let Ok(permit) = shared.permits.clone().try_acquire_owned() else {
            // Every slot taken: wait for one without holding this thread.
            return self.hand_off(shared, frame);
        };
        self.clock.mark(Phase::Dispatch);
        let is_add = matches!(request, Request::Add(_));
        let response = shared
            .service
            .handle(request, self.deadline, &mut self.clock);
        drop(permit);
        self.clock.mark(Phase::Reply);
        self.answer(&response);
        self.clock.mark(Phase::Write);
        if is_add {
            shared.service.metrics.add_phases.record(&self.clock);
        }
    }

    /// Reads the request, waiting at most the prompt wait (and never past
    /// the deadline) for each piece.
    fn read_promptly(&mut self, frame: &mut FrameBuffer) -> Arrival {
        let prompt = Duration::from_millis(SOCKET_PROMPT_READ_MS);
        let wait = prompt.min(self.deadline.saturating_duration_since(Instant::now()));
        if wait.is_zero() || self.stream.set_read_timeout(Some(wait)).is_err() {
            return Arrival::Slow;
        }
        let mut chunk = [0u8; 4096];
        loop {
            let missing = match frame.missing() {
                Ok(0) => return Arrival::Complete,
                Ok(missing) => missing,
                Err(message) => {
                    self.answer(&invalid(message));
                    return Arrival::Done;
                }
            };
            let want = missing.min(chunk.len());
            match self.stream.read(&mut chunk[..want]) {
                Ok(0) => {
                    tracing::debug!("the client closed before the whole request arrived");
                    return Arrival::Done;
                }
                Ok(read) => frame.extend(&chunk[..read]),
                Err(e) if e.kind() == IoErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), IoErrorKind::WouldBlock | IoErrorKind::TimedOut) => {
                    return Arrival::Slow;
                }
                Err(error) => {
                    tracing::debug!(%error, "reading a request failed");
                    return Arrival::Done;
                }
            }
        }
    }

    /// Writes `response`, giving up at the answer's own deadline.
    fn answer(&mut self, response: &Response) {
        let Some(frame) = encode_response(response) else {
            return;
        };
        let left = write_by(self.deadline).saturating_duration_since(Instant::now());
        let written = self
            .stream
            .set_write_timeout(Some(left.max(Duration::from_millis(1))))
            .and_then(|()| self.stream.write_all(&frame));
        // The client gave up; the state change (if any) is already durable
        // and a retried ADD is idempotent, so nothing to undo here.
        if let Err(error) = written {
            tracing::debug!(%error, "client went away before the answer");
        }
    }
}

fn invalid(message: String) -> Response {
    Response::Error(ErrorBody {
        kind: ErrorKind::InvalidRequest,
        message,
    })
}
