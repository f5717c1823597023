//! A minimal HTTP/1.1 endpoint serving `GET /metrics` (Prometheus text
//! format 0.0.4) and `GET /healthz`. Anything else gets 404; requests are
//! bounded in size and time so a scraper cannot hold the daemon.

use crate::service::Service;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const REQUEST_BYTES_MAX: usize = 8 * 1024;
const REQUEST_TIMEOUT_MS: u64 = 5_000;

pub async fn serve_metrics(
    address: SocketAddr,
    service: Arc<Service>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(address).await?;
    tracing::info!(%address, "metrics endpoint listening");
    loop {
        tokio::select! {
            _ = shutdown.changed() => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let service = service.clone();
                    tokio::spawn(async move {
                        let timeout = Duration::from_millis(REQUEST_TIMEOUT_MS);
                        if tokio::time::timeout(timeout, answer(stream, service)).await.is_err() {
                            tracing::debug!("metrics client too slow");
                        }
                    });
                }
                Err(error) => tracing::warn!(%error, "metrics accept failed"),
            },
        }
    }
}

async fn answer(mut stream: TcpStream, service: Arc<Service>) {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    // Read until the end of the headers; the body (if any) is ignored.
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > REQUEST_BYTES_MAX {
            return;
        }
    }
    let line = buf.split(|b| *b == b'\r').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let (status, content_type, body) = match line.split_whitespace().take(2).collect::<Vec<_>>()[..]
    {
        ["GET", "/metrics"] => (
            "200 OK",
            "text/plain; version=0.0.4",
            service.render_metrics(),
        ),
        ["GET", "/healthz"] => ("200 OK", "text/plain", "ok\n".to_owned()),
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
