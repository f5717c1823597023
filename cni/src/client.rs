//! One request/response exchange with berthd over its unix socket.
//!
//! The exchange runs on the calling thread under a deadline. A daemon that
//! stopped accepting would leave a blocking `connect` stuck on a full
//! backlog, so the socket connects non-blocking (a unix-socket connect
//! either completes at once or says the backlog is full) and retries until
//! the deadline; reads and writes get socket timeouts. An earlier helper
//! thread did the same job at ~0.3 ms per ADD (thread start, its malloc
//! arena, two cross-thread wake-ups), a sixth of the whole ADD budget.

use crate::limits::CONNECT_RETRY_PAUSE_MS;
use berth_proto::{read_frame, write_frame, FrameError, Request, Response};
use socket2::{Domain, SockAddr, Socket, Type};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("berthd is not reachable at {}: {}; is the daemon running?", path.display(), describe_connect(source))]
    Unreachable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("berthd at {} did not answer within {} ms; it may be overloaded or stuck (ipam.timeoutMs sets the limit)", path.display(), timeout.as_millis())]
    Timeout { path: PathBuf, timeout: Duration },
    #[error("berthd at {} closed the connection without answering; it may be restarting", path.display())]
    Closed { path: PathBuf },
    #[error("talking to berthd at {} failed: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "the request is too large for the berth protocol ({len_bytes} bytes, limit {} bytes)",
        berth_proto::MAX_FRAME_BYTES
    )]
    RequestTooLarge { len_bytes: u64 },
    #[error("berthd at {} sent an answer this plugin cannot read ({source}); are berth and berthd the same version?", path.display())]
    Protocol {
        path: PathBuf,
        #[source]
        source: FrameError,
    },
}

/// The OS reason in words an operator recognises.
fn describe_connect(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no socket at that path".into(),
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::PermissionDenied => {
            "permission denied (the socket is for root; run the plugin as root)".into()
        }
        _ => error.to_string(),
    }
}

/// Sends `request` to the daemon at `path` and returns its response, or
/// fails within about `timeout` (each read and write has `timeout` too).
pub fn call(path: &Path, timeout: Duration, request: Request) -> Result<Response, ClientError> {
    let stream = connect(path, timeout)?;
    exchange(stream, path, timeout, request)
}

/// Sends `request` on a connected `stream` and reads the response.
pub fn exchange(
    mut stream: UnixStream,
    path: &Path,
    timeout: Duration,
    request: Request,
) -> Result<Response, ClientError> {
    let io_error = |source| ClientError::Io {
        path: path.to_path_buf(),
        source,
    };
    stream.set_read_timeout(Some(timeout)).map_err(io_error)?;
    stream.set_write_timeout(Some(timeout)).map_err(io_error)?;
    write_frame(&mut stream, &request).map_err(|e| match e {
        FrameError::TooLarge { len_bytes } => ClientError::RequestTooLarge { len_bytes },
        other => frame_error(path, timeout, other),
    })?;
    read_frame(&mut stream).map_err(|e| frame_error(path, timeout, e))
}

/// Connects within `timeout`, retrying while the daemon's backlog is full.
pub fn connect(path: &Path, timeout: Duration) -> Result<UnixStream, ClientError> {
    let unreachable = |source| ClientError::Unreachable {
        path: path.to_path_buf(),
        source,
    };
    let address = SockAddr::unix(path).map_err(unreachable)?;
    let deadline = Instant::now() + timeout;
    loop {
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None).map_err(unreachable)?;
        socket.set_nonblocking(true).map_err(unreachable)?;
        match socket.connect(&address) {
            Ok(()) => {
                socket.set_nonblocking(false).map_err(unreachable)?;
                return Ok(UnixStream::from(OwnedFd::from(socket)));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Err(ClientError::Timeout {
                        path: path.to_path_buf(),
                        timeout,
                    });
                }
                std::thread::sleep(Duration::from_millis(CONNECT_RETRY_PAUSE_MS));
            }
            Err(e) => return Err(unreachable(e)),
        }
    }
}

/// Sorts a frame error into what the operator should do about it.
fn frame_error(path: &Path, timeout: Duration, error: FrameError) -> ClientError {
    let path = path.to_path_buf();
    match error {
        FrameError::Io(source) => match source.kind() {
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset => ClientError::Closed { path },
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                ClientError::Timeout { path, timeout }
            }
            _ => ClientError::Io { path, source },
        },
        other => ClientError::Protocol {
            path,
            source: other,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    fn dir() -> tempfile::TempDir {
        tempfile::tempdir().expect("tempdir")
    }

    #[test]
    fn missing_socket_is_unreachable_with_an_actionable_message() {
        let dir = dir();
        let path = dir.path().join("absent.sock");
        let err = call(&path, Duration::from_secs(1), Request::Status).expect_err("absent");
        assert!(matches!(err, ClientError::Unreachable { .. }));
        let text = err.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(text.contains("is the daemon running?"), "{text}");
    }

    #[test]
    fn a_silent_daemon_times_out() {
        let dir = dir();
        let path = dir.path().join("silent.sock");
        let listener = UnixListener::bind(&path).expect("bind");
        // Accept and hold the connection without answering.
        let holder = std::thread::spawn(move || listener.accept().map(|(s, _)| s));
        let err = call(&path, Duration::from_millis(100), Request::Status).expect_err("silent");
        assert!(matches!(err, ClientError::Timeout { .. }), "{err}");
        drop(holder);
    }

    #[test]
    fn a_full_backlog_times_out_instead_of_blocking() {
        let dir = dir();
        let path = dir.path().join("stuck.sock");
        let listener = Socket::new(Domain::UNIX, Type::STREAM, None).expect("socket");
        listener
            .bind(&SockAddr::unix(&path).expect("address"))
            .expect("bind");
        // Backlog 0: one pending connection fits, the next finds it full.
        listener.listen(0).expect("listen");
        let _queued = connect(&path, Duration::from_secs(1)).expect("first fits the backlog");
        let started = Instant::now();
        let err = connect(&path, Duration::from_millis(100)).expect_err("backlog full");
        assert!(matches!(err, ClientError::Timeout { .. }), "{err}");
        assert!(started.elapsed() >= Duration::from_millis(100));
    }

    #[test]
    fn a_daemon_that_hangs_up_is_reported_as_closed() {
        let dir = dir();
        let path = dir.path().join("rude.sock");
        let listener = UnixListener::bind(&path).expect("bind");
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            let _: Request = read_frame(&mut stream).expect("request");
        });
        let err = call(&path, Duration::from_secs(5), Request::Status).expect_err("closed");
        assert!(matches!(err, ClientError::Closed { .. }), "{err}");
        server.join().expect("server");
    }

    #[test]
    fn garbage_answers_are_a_protocol_error() {
        let dir = dir();
        let path = dir.path().join("garbage.sock");
        let listener = UnixListener::bind(&path).expect("bind");
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            let _: Request = read_frame(&mut stream).expect("request");
            write_frame(&mut stream, &serde_json::json!({"outcome": "maybe"})).expect("write");
        });
        let err = call(&path, Duration::from_secs(5), Request::Status).expect_err("garbage");
        assert!(matches!(err, ClientError::Protocol { .. }), "{err}");
        server.join().expect("server");
    }
}
