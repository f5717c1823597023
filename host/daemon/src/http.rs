//! A minimal HTTP/1.1 endpoint serving `GET /metrics` (Prometheus text
//! format 0.0.4) and `GET /healthz`. Anything else gets 404; requests are
//! bounded in size and time, and connections in number, so a scraper (or
//! anyone who can reach the port) cannot hold the daemon.
//!
//! Both answers come from a snapshot taken every `SNAPSHOT_INTERVAL_MS` on
//! a blocking thread: rendering needs the allocator lock, and taking it on
//! one of the runtime's two workers would stall the Kubernetes API calls
//! the lock holder may be waiting for. `/healthz` fails when the last
//! snapshot found the daemon unhealthy (store cannot commit, state
//! poisoned) or when no snapshot finished for `SNAPSHOT_STALE_SECS` (the
//! daemon is stuck).

use crate::accept_backoff::AcceptBackoff;
use crate::limits::SNAPSHOT_INTERVAL_MS;
use crate::limits::SNAPSHOT_STALE_SECS;
use crate::limits::{HTTP_REQUEST_BYTES_MAX, HTTP_REQUEST_TIMEOUT_MS, METRICS_CONNECTIONS_MAX};
use crate::service::Service;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

struct Snapshot {
    metrics: String,
    health: Result<(), String>,
    taken: Instant,
}

type Shared = Arc<RwLock<Arc<Snapshot>>>;

pub async fn serve_metrics(
    address: SocketAddr,
    service: Arc<Service>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(address).await?;
    tracing::info!(%address, "metrics endpoint listening");
    let snapshot: Shared = Arc::new(RwLock::new(Arc::new(take(service.clone()).await)));
    tokio::spawn(refresh(service, snapshot.clone(), shutdown.clone()));
    let connections = Arc::new(Semaphore::new(METRICS_CONNECTIONS_MAX));
    let mut backoff = AcceptBackoff::default();
    loop {
        tokio::select! {
            _ = shutdown.changed() => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    backoff.accepted();
                    let Ok(connection) = connections.clone().try_acquire_owned() else {
                        continue; // dropped: closed at once
                    };
                    let snapshot = current(&snapshot);
                    tokio::spawn(async move {
                        let timeout = Duration::from_millis(HTTP_REQUEST_TIMEOUT_MS);
                        if tokio::time::timeout(timeout, answer(stream, &snapshot)).await.is_err() {
                            tracing::debug!("metrics client too slow");
                        }
                        drop(connection);
                    });
                }
                Err(error) => backoff.failed("metrics", &error).await,
            },
        }
    }
}

fn current(shared: &Shared) -> Arc<Snapshot> {
    // Readers only clone an Arc; a poisoned lock still holds a whole value.
    shared.read().unwrap_or_else(|p| p.into_inner()).clone()
}

async fn take(service: Arc<Service>) -> Snapshot {
    let taken =
        tokio::task::spawn_blocking(move || (service.render_metrics(), service.health())).await;
    let (metrics, health) = match taken {
        Ok(pair) => pair,
        Err(error) => (String::new(), Err(format!("snapshot task failed: {error}"))),
    };
    Snapshot {
        metrics,
        health,
        taken: Instant::now(),
    }
}

async fn refresh(service: Arc<Service>, shared: Shared, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(SNAPSHOT_INTERVAL_MS));
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {
                let next = Arc::new(take(service.clone()).await);
                if let Err(problem) = &next.health {
                    tracing::warn!(%problem, "unhealthy");
                }
                *shared.write().unwrap_or_else(|p| p.into_inner()) = next;
            }
        }
    }
}

async fn answer(mut stream: TcpStream, snapshot: &Snapshot) {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    // Read until the end of the headers; the body (if any) is ignored.
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > HTTP_REQUEST_BYTES_MAX {
            return;
        }
    }
    let line = buf.split(|b| *b == b'\r').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let (status, content_type, body) = match line.split_whitespace().take(2).collect::<Vec<_>>()[..]
    {
        ["GET", "/metrics"] => (
            "200 OK",
            prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            snapshot.metrics.clone(),
        ),
        ["GET", "/healthz"] => match health(snapshot) {
            Ok(()) => ("200 OK", "text/plain", "ok\n".to_owned()),
            Err(problem) => (
                "503 Service Unavailable",
                "text/plain",
                format!("unhealthy: {problem}\n"),
            ),
        },
        _ => ("404 Not Found", "text/plain", "not found\n".to_owned()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    // A scraper that hangs up early loses only its own answer.
    if stream.write_all(head.as_bytes()).await.is_ok() {
        let _ = stream.write_all(body.as_bytes()).await;
    }
}

fn health(snapshot: &Snapshot) -> Result<(), String> {
    let age = snapshot.taken.elapsed();
    if age > Duration::from_secs(SNAPSHOT_STALE_SECS) {
        return Err(format!(
            "no health check finished for {} s; the daemon looks stuck",
            age.as_secs()
        ));
    }
    snapshot.health.clone()
}
