//! The metrics endpoint over a loopback socket, serving a fixed snapshot:
//! paths, status codes and content types, one answer per connection, and
//! the bounds on a request's head and on open connections. (The snapshot
//! refresh is the daemon's; the end-to-end tests scrape a real berthd.)

use crate::http::{serve, Shared, Snapshot};
use crate::limits::{HTTP_REQUEST_BYTES_MAX, METRICS_CONNECTIONS_MAX};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// A server on a free loopback port, answering from `snapshot` until the
/// returned sender is dropped with the runtime.
fn start(snapshot: Snapshot) -> (tokio::runtime::Runtime, SocketAddr, watch::Sender<bool>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = watch::channel(false);
    let shared: Shared = Arc::new(RwLock::new(Arc::new(snapshot)));
    runtime.spawn(serve(listener, shared, stopped));
    (runtime, address, stop)
}

fn snapshot(health: Result<(), String>) -> Snapshot {
    Snapshot {
        metrics: "berth_requests_total 3\n".to_owned(),
        health,
        taken: Instant::now(),
    }
}

/// Sends `request` and reads until the server closes: a second request on
/// the connection is never waited for.
fn exchange(address: SocketAddr, request: &[u8]) -> String {
    try_exchange(address, request).expect("exchange")
}

fn try_exchange(address: SocketAddr, request: &[u8]) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(request)?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

fn get(address: SocketAddr, path: &str) -> String {
    exchange(
        address,
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes(),
    )
}

#[test]
fn metrics_answers_the_snapshot_in_prometheus_text() {
    let (_runtime, address, _stop) = start(snapshot(Ok(())));
    let answer = get(address, "/metrics");
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    let content_type = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;
    assert!(
        answer.contains(&format!("content-type: {content_type}\r\n")),
        "{answer}"
    );
    assert!(answer.contains("connection: close\r\n"), "{answer}");
    assert!(answer.contains("content-length: 23\r\n"), "{answer}");
    assert!(
        answer.ends_with("\r\n\r\nberth_requests_total 3\n"),
        "{answer}"
    );
}

#[test]
fn healthz_says_ok_or_why_not() {
    let (_runtime, address, _stop) = start(snapshot(Ok(())));
    let answer = get(address, "/healthz");
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("content-type: text/plain\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nok\n"), "{answer}");

    let (_runtime, address, _stop) = start(snapshot(Err("store cannot commit".into())));
    let answer = get(address, "/healthz");
    assert!(
        answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{answer}"
    );
    assert!(
        answer.ends_with("unhealthy: store cannot commit\n"),
        "{answer}"
    );
}

#[test]
fn a_stale_snapshot_is_unhealthy() {
    let mut stale = snapshot(Ok(()));
    let age = Duration::from_secs(crate::limits::SNAPSHOT_STALE_SECS + 1);
    // On a machine up for less than that, there is no such instant to fake.
    let Some(taken) = Instant::now().checked_sub(age) else {
        return;
    };
    stale.taken = taken;
    let (_runtime, address, _stop) = start(stale);
    let answer = get(address, "/healthz");
    assert!(answer.starts_with("HTTP/1.1 503 "), "{answer}");
    assert!(answer.contains("looks stuck"), "{answer}");
}

#[test]
fn other_paths_and_methods_are_not_found() {
    let (_runtime, address, _stop) = start(snapshot(Ok(())));
    for request in [
        "GET / HTTP/1.1\r\n\r\n",
        "GET /metricsx HTTP/1.1\r\n\r\n",
        "POST /metrics HTTP/1.1\r\ncontent-length: 0\r\n\r\n",
    ] {
        let answer = exchange(address, request.as_bytes());
        assert!(
            answer.starts_with("HTTP/1.1 404 Not Found\r\n"),
            "{request}: {answer}"
        );
        assert!(answer.ends_with("not found\n"), "{answer}");
    }
    // HTTP/1.0 clients (the cluster tool's) are answered too.
    let answer = exchange(address, b"GET /healthz HTTP/1.0\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.0 200 OK\r\n"), "{answer}");
}

#[test]
fn a_request_head_over_the_bound_gets_no_metrics() {
    let (_runtime, address, _stop) = start(snapshot(Ok(())));
    let filler = "a".repeat(HTTP_REQUEST_BYTES_MAX);
    let request = format!("GET /metrics HTTP/1.1\r\nx-filler: {filler}\r\n\r\n");
    // The server may close while the request is still being written.
    let mut stream = TcpStream::connect(address).expect("connect");
    let _written = stream.write_all(request.as_bytes());
    let mut answer = String::new();
    let _read = stream.read_to_string(&mut answer);
    assert!(!answer.contains("berth_requests_total"), "{answer}");
}

#[test]
fn connections_over_the_bound_are_closed_at_once() {
    let (_runtime, address, _stop) = start(snapshot(Ok(())));
    // Idle connections hold every slot (until the request timeout).
    let idle: Vec<TcpStream> = (0..METRICS_CONNECTIONS_MAX)
        .map(|_| TcpStream::connect(address).expect("connect"))
        .collect();
    // Each accepted in turn: the last one in has its slot once the server
    // answers a probe on a fresh connection with a close.
    let mut extra = TcpStream::connect(address).expect("connect");
    extra
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let _written = extra.write_all(b"GET /metrics HTTP/1.1\r\n\r\n");
    let mut answer = String::new();
    let read = extra.read_to_string(&mut answer);
    assert!(
        matches!(read, Ok(0)) || read.is_err() && answer.is_empty(),
        "a connection past the bound was answered: {read:?} {answer}"
    );
    drop(idle);
    // The slots come back as the idle connections close.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        // Refused connections are reset: an error here means "not yet".
        let answer = try_exchange(address, b"GET /healthz HTTP/1.1\r\n\r\n");
        if answer
            .as_ref()
            .is_ok_and(|a| a.starts_with("HTTP/1.1 200 OK\r\n"))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "slots not given back: {answer:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
