//! What one run measured, and the table that sets the runs side by side
//! with the goals.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::cpu;

/// Verbs that change something, as kube-apiserver reports them.
const WRITE_VERBS: [&str; 5] = ["POST", "PUT", "PATCH", "DELETE", "APPLY"];
/// berthd serves /metrics from a snapshot taken every second
/// (`SNAPSHOT_INTERVAL_MS` in host/core's limits): read it after two.
pub const METRICS_SETTLE: Duration = Duration::from_secs(2);
/// Goals of issue 8.
const GOAL_SECS: f64 = 60.0;
const GOAL_WRITES_PER_ALLOCATION: f64 = 1.2;

#[derive(Debug, Default)]
pub struct Run {
    pub label: String,
    pub pods: usize,
    pub nodes: usize,
    pub addressed: usize,
    /// Create of the first workload to the last pod object created (by
    /// the controllers, or the bench for the stand-in).
    pub all_created: Option<Duration>,
    /// Create of the first workload to the last podIP; `None`: timed out.
    pub all_addressed: Option<Duration>,
    pub create_to_ip: Vec<Duration>,
    /// CNI ADD of a pod's sandbox as the kubelet saw it (exec to result).
    pub add_chain: Vec<Duration>,
    /// berthd's own ADD time (p50, p99) in µs, from its histogram buckets.
    pub berthd_add_us: Option<(f64, f64)>,
    /// ADDs berthd answered with an address.
    pub allocations: u64,
    /// (verb, resource[/subresource]) -> requests in the window.
    pub requests: BTreeMap<(String, String), u64>,
    /// CNI ADDs that failed, as the kubelets saw them.
    pub cni_failures: u64,
    /// ADDs berthd answered with an error.
    pub berthd_errors: u64,
    pub cpu: Vec<(String, Duration)>,
    /// kube-apiserver's own time for some requests: (what, p50, p99) in
    /// seconds, since it started (the bench's requests dominate).
    pub api_latency: Vec<(String, f64, f64)>,
    pub window: Duration,
}

impl Run {
    fn writes(&self, berth_only: bool) -> u64 {
        self.requests
            .iter()
            .filter(|((verb, resource), _)| {
                WRITE_VERBS.contains(&verb.as_str())
                    && (!berth_only || resource.starts_with("berth"))
            })
            .map(|(_, n)| n)
            .sum()
    }

    fn per_allocation(&self, n: u64) -> f64 {
        n as f64 / self.allocations.max(1) as f64
    }

    /// CPU of this run's own components (everything but the machine total).
    fn own_cpu(&self) -> Duration {
        self.cpu
            .iter()
            .filter(|(n, _)| n != cpu::MACHINE)
            .map(|(_, d)| *d)
            .sum()
    }

    fn failures(&self) -> u64 {
        self.cni_failures + self.berthd_errors
    }
}

/// The `q` quantile of `values` (nearest rank).
pub fn quantile(values: &[Duration], q: f64) -> Option<Duration> {
    let mut sorted = values.to_vec();
    sorted.sort();
    let last = sorted.len().checked_sub(1)?;
    let rank = ((q * sorted.len() as f64).ceil() as usize).saturating_sub(1);
    sorted.get(rank.min(last)).copied()
}

fn ms(d: Option<Duration>) -> String {
    d.map_or("-".into(), |d| format!("{:.1} ms", d.as_secs_f64() * 1e3))
}

fn row(name: &str, cells: &[String]) {
    print!("  {name:<40}");
    for c in cells {
        print!(" {c:>26}");
    }
    println!();
}

pub fn print(runs: &[Run]) {
    let Some(first) = runs.first() else { return };
    println!(
        "\ncluster_adds: {} pods (Deployments and StatefulSets) over {} nodes, real CNI chain (bridge + berth)",
        first.pods, first.nodes
    );
    let labels: Vec<String> = runs.iter().map(|r| r.label.clone()).collect();
    row("", &labels);
    let each = |f: &dyn Fn(&Run) -> String| runs.iter().map(f).collect::<Vec<_>>();
    row(
        "pods addressed",
        &each(&|r| format!("{} of {}", r.addressed, r.pods)),
    );
    row(
        "create -> every pod object exists",
        &each(&|r| {
            r.all_created
                .map_or("-".into(), |d| format!("{:.1} s", d.as_secs_f64()))
        }),
    );
    row(
        "create -> every pod has its IP",
        &each(&|r| {
            r.all_addressed
                .map_or(format!("timed out ({:.0?})", r.window), |d| {
                    format!("{:.1} s", d.as_secs_f64())
                })
        }),
    );
    for (name, q) in [
        ("create -> IP per pod, p50", 0.5),
        ("create -> IP per pod, p99", 0.99),
    ] {
        row(name, &each(&|r| ms(quantile(&r.create_to_ip, q))));
    }
    for (name, q) in [
        ("CNI ADD (kubelet), p50", 0.5),
        ("CNI ADD (kubelet), p99", 0.99),
    ] {
        row(name, &each(&|r| ms(quantile(&r.add_chain, q))));
    }
    row(
        "ADD in berthd p50 / p99 (buckets)",
        &each(&|r| {
            r.berthd_add_us.map_or("-".into(), |(p50, p99)| {
                format!("{:.1} / {:.1} ms", p50 / 1e3, p99 / 1e3)
            })
        }),
    );
    row("allocations", &each(&|r| r.allocations.to_string()));
    row(
        "Berth API writes / allocation",
        &each(&|r| format!("{:.2}", r.per_allocation(r.writes(true)))),
    );
    row(
        "all API writes / allocation",
        &each(&|r| format!("{:.2}", r.per_allocation(r.writes(false)))),
    );
    row(
        "all API requests / allocation",
        &each(&|r| format!("{:.2}", r.per_allocation(r.requests.values().sum()))),
    );
    row(
        "failures: CNI ADD / berthd ADD",
        &each(&|r| format!("{} / {}", r.cni_failures, r.berthd_errors)),
    );

    println!("\n  CPU seconds in the window, by component (2 cores shared with other work)");
    let components: BTreeSet<&String> = runs
        .iter()
        .flat_map(|r| r.cpu.iter().map(|(n, _)| n))
        .filter(|n| n.as_str() != cpu::MACHINE)
        .collect();
    row(
        "this run, all components",
        &each(&|r| format!("{:.1}", r.own_cpu().as_secs_f64())),
    );
    row(
        cpu::MACHINE,
        &each(&|r| {
            r.cpu
                .iter()
                .find(|(n, _)| n == cpu::MACHINE)
                .map_or("-".into(), |(_, d)| {
                    format!(
                        "{:.1} of {:.0}",
                        d.as_secs_f64(),
                        2.0 * r.window.as_secs_f64()
                    )
                })
        }),
    );
    for name in components {
        row(
            name,
            &each(&|r| {
                r.cpu
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or("-".into(), |(_, d)| format!("{:.1}", d.as_secs_f64()))
            }),
        );
    }

    println!("\n  API requests in the window, by verb and resource");
    let keys: BTreeSet<&(String, String)> = runs.iter().flat_map(|r| r.requests.keys()).collect();
    for key in keys {
        row(
            &format!("{} {}", key.0, key.1),
            &each(&|r| r.requests.get(key).map_or("-".into(), |n| n.to_string())),
        );
    }

    for r in runs.iter().filter(|r| !r.api_latency.is_empty()) {
        println!(
            "\n  [{}] time in kube-apiserver (apiserver_request_duration_seconds, p50 / p99)",
            r.label
        );
        for (what, p50, p99) in &r.api_latency {
            println!("  {what:<40} {:>8.1} / {:.1} ms", p50 * 1e3, p99 * 1e3);
        }
    }

    println!("\n  goals (issue 8)");
    for r in runs {
        let met = |ok: bool| if ok { "met" } else { "NOT met" };
        let writes = r.per_allocation(r.writes(true));
        let secs = r.all_addressed.map(|d| d.as_secs_f64());
        println!("  [{}]", r.label);
        println!(
            "    0 failures                          {} ({})",
            met(r.failures() == 0),
            r.failures()
        );
        println!(
            "    <= {GOAL_WRITES_PER_ALLOCATION} Berth API writes per allocation  {} ({writes:.2})",
            met(writes <= GOAL_WRITES_PER_ALLOCATION)
        );
        println!(
            "    {} pods addressed in < {GOAL_SECS:.0} s        {} ({}; Spiderpool reports 207 s for 1,000)",
            r.pods,
            met(r.addressed == r.pods && secs.is_some_and(|s| s < GOAL_SECS)),
            secs.map_or("timed out".into(), |s| format!("{s:.1} s"))
        );
    }
}

/// Normalises a stand-in verb (`create`) to kube-apiserver's (`POST`).
pub fn apiserver_verb(standin_verb: &str) -> String {
    match standin_verb {
        "create" => "POST",
        "update" => "PUT",
        "deletecollection" => "DELETE",
        other => return other.to_ascii_uppercase(),
    }
    .to_string()
}

/// What every run does: this many pods over this many nodes, given up
/// after `timeout`.
#[derive(Debug, Clone, Copy)]
pub struct RunShape {
    pub pods: usize,
    pub nodes: usize,
    pub timeout: Duration,
}
