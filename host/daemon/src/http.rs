//! berthd's HTTP endpoint: `GET /metrics` (Prometheus text format) and
//! `GET /healthz`; anything else gets 404. HTTP itself is hyper's (HTTP/1
//! only, one request a connection); what is ours is the bounds, so a
//! scraper (or anyone who can reach the port) cannot hold the daemon:
//! connections in number, a request's head in bytes, a connection in time
//! (`HTTP_*` and `METRICS_CONNECTIONS_MAX` in `limits.rs`).
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
use hyper::header::{CONNECTION, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

pub(crate) struct Snapshot {
    pub(crate) metrics: String,
    pub(crate) health: Result<(), String>,
    pub(crate) taken: Instant,
}

pub(crate) type Shared = Arc<RwLock<Arc<Snapshot>>>;

pub async fn serve_metrics(
    address: SocketAddr,
    service: Arc<Service>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(address).await?;
    tracing::info!(%address, "metrics endpoint listening");
    let snapshot: Shared = Arc::new(RwLock::new(Arc::new(take(service.clone()).await)));
    tokio::spawn(refresh(service, snapshot.clone(), shutdown.clone()));
    serve(listener, snapshot, shutdown).await;
    Ok(())
}

/// Accepts until `shutdown`, answering each connection from the snapshot
/// current when its request arrives.
pub(crate) async fn serve(
    listener: TcpListener,
    snapshot: Shared,
    mut shutdown: watch::Receiver<bool>,
) {
    let connections = Arc::new(Semaphore::new(METRICS_CONNECTIONS_MAX));
    let mut backoff = AcceptBackoff::default();
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    backoff.accepted();
                    let Ok(permit) = connections.clone().try_acquire_owned() else {
                        continue; // dropped: closed at once
                    };
                    tokio::spawn(connection(stream, snapshot.clone(), permit));
                }
                Err(error) => backoff.failed("metrics", &error).await,
            },
        }
    }
}

/// One connection, one request: keep-alive is off, so a scraper holds a
/// connection slot for one answer at most, and the whole exchange is cut
/// at `HTTP_REQUEST_TIMEOUT_MS`. hyper refuses a head larger than its
/// buffer (`HTTP_REQUEST_BYTES_MAX`); a body, if any, is never read.
async fn connection(stream: TcpStream, snapshot: Shared, permit: OwnedSemaphorePermit) {
    let service = hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
        let answer = route(&request, &current(&snapshot));
        async move { Ok::<_, Infallible>(answer) }
    });
    let serving = hyper::server::conn::http1::Builder::new()
        .keep_alive(false)
        .max_buf_size(HTTP_REQUEST_BYTES_MAX)
        .serve_connection(TokioIo::new(stream), service);
    let timeout = Duration::from_millis(HTTP_REQUEST_TIMEOUT_MS);
    match tokio::time::timeout(timeout, serving).await {
        Err(_) => tracing::debug!("metrics client too slow"),
        // A scraper that hangs up early or sends garbage loses only its
        // own answer; nothing of the daemon's depends on it.
        Ok(Err(error)) => tracing::debug!(%error, "metrics connection failed"),
        Ok(Ok(())) => {}
    }
    drop(permit);
}

/// The answer to one request, from one snapshot.
pub(crate) fn route<B>(request: &Request<B>, snapshot: &Snapshot) -> Response<String> {
    let (status, content_type, body) = match (request.method(), request.uri().path()) {
        (&Method::GET, "/metrics") => (
            StatusCode::OK,
            prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            snapshot.metrics.clone(),
        ),
        (&Method::GET, "/healthz") => match health(snapshot) {
            Ok(()) => (StatusCode::OK, "text/plain", "ok\n".to_owned()),
            Err(problem) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain",
                format!("unhealthy: {problem}\n"),
            ),
        },
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found\n".to_owned(),
        ),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    headers.insert(CONNECTION, hyper::header::HeaderValue::from_static("close"));
    response
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
