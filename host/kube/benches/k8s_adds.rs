//! Kubernetes mode at scale: 1,000 pod ADDs over 10 simulated nodes, 100
//! at once, against the stand-in API server with 2 ms injected latency per
//! request. Each node is a real `Allocator` (behind its lock, as berthd
//! holds it across plan → persist → apply) with its own `KubeStore` and
//! `kube::Client`; the chain has no policies (stateless pods: the sticky
//! policy abstains for them anyway). A conflict refreshes the node from
//! `load()` and plans again.
//!
//! Prints total time, API writes per allocation (the stand-in's counters),
//! conflicts, lists, transient retries and failures.
//!
//! Run: `cargo bench -p berth-kube --bench k8s_adds`.
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const ADDS: usize = 1000;
const NODES: usize = 10;
const CONCURRENT: usize = 100;
const LATENCY: Duration = Duration::from_millis(2);

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    // What berthd does: each node starts its search at a node-seeded cursor.
    scenario("node-seeded cursors (berthd)", &NoPolicies, true);
    // A policy reorder spreads the nodes instead.
    scenario("spread-by-node reorder", &SpreadByNode, false);
    // Every node picks the lowest free address: the worst case for races.
    scenario("lowest address first", &NoPolicies, false);
}

fn scenario(label: &str, chain: &dyn berth_core::chain::PolicyChain, spread: bool) {
    let c = Cluster::start();
    let pool = pool_spec("bench", "10.20.0.0/16", &["10.20.0.1-10.20.15.254"]);
    c.create_pool(&pool);
    let nodes: Vec<Node> = (0..NODES)
        .map(|i| {
            let name = format!("node-{i}");
            let node = Node::new(&name, std::slice::from_ref(&pool), c.store(&name));
            if spread {
                // Any distinct per-node value; berthd hashes the node name.
                node.with_spread_cursors((i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15))
            } else {
                node
            }
        })
        .collect();
    c.server.set_latency(LATENCY);
    c.server.reset_counts();
    let retries_before = berth_kube::retry::RETRIES.load(Ordering::Relaxed);

    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let outcomes: Vec<_> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..CONCURRENT)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= ADDS {
                            return out;
                        }
                        let node = &nodes[i % NODES];
                        let t = Instant::now();
                        let r = node.add(&add_input(&format!("pod{i}"), &node.name), chain, 1000);
                        out.push((r, t.elapsed()));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let total = started.elapsed();

    let counts = c.server.counts();
    let mut latencies: Vec<Duration> = outcomes.iter().map(|(_, d)| *d).collect();
    latencies.sort();
    let failures: Vec<_> = outcomes
        .iter()
        .filter_map(|(r, _)| r.as_ref().err())
        .collect();
    let conflicts: u32 = outcomes
        .iter()
        .filter_map(|(r, _)| r.as_ref().ok())
        .map(|(_, s)| s.conflicts)
        .sum();
    let mut held: Vec<_> = outcomes
        .iter()
        .filter_map(|(r, _)| r.as_ref().ok().map(|(a, _)| *a))
        .collect();
    held.sort();
    held.dedup();
    let ok = ADDS - failures.len();
    let per_alloc = |n: u64| n as f64 / ok.max(1) as f64;
    let writes = counts.writes("berthaddresses");
    println!(
        "k8s_adds [{label}]: {ADDS} ADDs, {NODES} nodes, {CONCURRENT} concurrent, {LATENCY:?} per request"
    );
    println!(
        "  total time            {total:.2?} ({:.0} ADDs/s)",
        ADDS as f64 / total.as_secs_f64()
    );
    println!(
        "  ADD latency           p50 {:.2?}  p99 {:.2?}  max {:.2?}",
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 99 / 100],
        latencies[latencies.len() - 1]
    );
    println!(
        "  API writes/allocation {:.2}: 1 successful create each, the rest lost races \
         (creates {}, updates {}, deletes {}; pool writes {})",
        per_alloc(writes),
        counts.get("create", "berthaddresses"),
        counts.get("update", "berthaddresses"),
        counts.get("delete", "berthaddresses"),
        counts.writes("berthpools"),
    );
    println!(
        "  API requests/allocation {:.2} (lists {})",
        per_alloc(counts.total()),
        counts.get("list", "berthaddresses")
    );
    println!("  conflicts (refreshes) {conflicts}");
    println!(
        "  transient retries     {}",
        berth_kube::retry::RETRIES.load(Ordering::Relaxed) - retries_before
    );
    println!(
        "  failures              {} {:?}",
        failures.len(),
        failures.first()
    );
    println!("  distinct addresses    {} of {ok} served", held.len());
    assert_eq!(held.len(), ok, "an address was handed out twice");
    assert_eq!(c.address_objects().len(), ok);
}
