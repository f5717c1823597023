//! Waiting for components by asking them, never by sleeping a guessed time:
//! a probe is retried every [`POLL`] until it answers, a component process
//! exits (then its log is the error), or the deadline passes (then the last
//! probe error and every log tail are).

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};

use crate::process::Process;

/// The pause between two probes.
const POLL: Duration = Duration::from_millis(100);

/// Runs `probe` until it returns `Ok(Some(value))`. `Ok(None)` and `Err`
/// both mean "not yet"; the last error is kept for the timeout message.
/// `watched` are the processes whose exit ends the wait early.
pub async fn wait_for<T, F, Fut>(
    what: &str,
    timeout: Duration,
    watched: &mut [&mut Process],
    mut probe: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        for process in watched.iter_mut() {
            process.check_running()?;
        }
        let last = match probe().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => String::from("not ready yet"),
            Err(e) => format!("{e:#}"),
        };
        if Instant::now() >= deadline {
            let logs: Vec<String> = watched
                .iter()
                .map(|p| {
                    format!(
                        "--- last lines of {} ({}):\n{}",
                        p.name(),
                        p.log_path().display(),
                        p.log_tail()
                    )
                })
                .collect();
            return Err(anyhow!(
                "timed out after {timeout:?} waiting for {what}: {last}\n{}",
                logs.join("\n")
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The body of `GET path` if the server answers 2xx with `ok`, as
/// kube-apiserver's `/readyz` and kube-controller-manager's `/healthz` do.
pub async fn health_ok(client: &kube::Client, path: &str) -> Result<Option<()>> {
    let request = http::Request::get(path).body(Vec::new())?;
    let body = client.request_text(request).await?;
    Ok((body.trim() == "ok").then_some(()))
}
