//! 1,000 pods (Deployments and StatefulSets) over 10 nodes, every one
//! through the real CNI chain (Debian's bridge with `"ipam": {"type":
//! "berth"}`) and the node's berthd from the release image, against the
//! real control plane (tests/cluster) and then against the stand-in
//! (tests/kube-standin). Prints, side by side: time from create to every
//! pod having its IP, per-pod and per-ADD latency (median and p99), API
//! requests by verb and resource (kube-apiserver's
//! `apiserver_request_total`; the stand-in's counters) per allocation,
//! failures, where the CPU went, and the goals of issue 8 as met or not.
//! Nothing is asserted about time.
//!
//! Run (root: it makes network namespaces):
//! `cargo bench -p berth-cluster --bench cluster_adds`
//! Options after `--`: `--pods N` (1000), `--nodes N` (10),
//! `--only real|standin`, `--timeout-secs N` (900).
//! The first run builds the release image (a cold musl build of berthd).

mod apiserver;
mod cpu;
mod real;
mod report;
mod standin;
mod standin_berthd;
mod standin_pods;
mod watch;
mod workloads;

use std::time::Duration;

use anyhow::{bail, Context, Result};
use report::RunShape;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--test" || a == "--list") {
        return Ok(());
    }
    let mut shape = RunShape {
        pods: 1000,
        nodes: 10,
        timeout: Duration::from_secs(900),
    };
    let (mut real, mut standin) = (true, true);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--pods" => shape.pods = value()?.parse()?,
            "--nodes" => shape.nodes = value()?.parse()?,
            "--timeout-secs" => shape.timeout = Duration::from_secs(value()?.parse()?),
            "--only" => match value()?.as_str() {
                "real" => standin = false,
                "standin" => real = false,
                other => bail!("--only real|standin, not {other}"),
            },
            // cargo bench passes --bench; filters are not used.
            _ => {}
        }
    }
    if !(1..=26).contains(&shape.nodes) {
        bail!("--nodes is 1 to 26 (nodes are named node-a .. node-z)");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut runs = Vec::new();
    // One at a time: each run has the machine to itself.
    if real {
        runs.push(
            runtime
                .block_on(real::run(shape))
                .context("the real control plane run")?,
        );
    }
    if standin {
        runs.push(
            runtime
                .block_on(standin::run(shape))
                .context("the stand-in run")?,
        );
    }
    report::print(&runs);
    Ok(())
}
