//! Seeded, deterministic simulation of many clusters' histories against
//! the real allocator and chain semantics. A failure prints its seed;
//! rerun one with `BERTH_SIM_SEED=<seed> cargo test -p berth-core --test simulation`.

mod common;
mod sim;

use berth_core::Pool;
use common::pool;
use sim::world::{PodKind, World, NODES};

/// 500 seeds x 2,000 steps (1,000,000 operations) in an optimised build
/// (`cargo test --release -p berth-core --test simulation`, which CI runs;
/// ~1 min on 2 cores); an unoptimised build runs the first 5 seeds to keep
/// `cargo test` quick. `BERTH_SIM_SEEDS=<n>` overrides the count.
const SEEDS: u64 = if cfg!(debug_assertions) { 5 } else { 500 };
const STEPS: usize = 2_000;

fn pools() -> Vec<Pool> {
    let mut a = pool("a", "10.9.0.0/24", &["10.9.0.10-10.9.0.49"]);
    a.default = true;
    let b = pool("b", "10.9.1.0/24", &["10.9.1.10-10.9.1.29"]);
    let mut c = pool("c", "fd09::/120", &["fd09::10-fd09::3f"]);
    c.default = true;
    vec![a, b, c]
}

fn step(w: &mut World) {
    w.now += w.rng_range(1, 30);
    match w.rng_range(0, 100) {
        0..=24 => {
            let name = format!("web-{}", w.rng_range(0, 1_000_000));
            let pools = match w.rng_range(0, 3) {
                0 => vec![],
                1 => vec!["a".into()],
                _ => vec!["a".into(), "c".into()],
            };
            w.start(name, "ns1".into(), PodKind::Stateless, pools);
        }
        25..=39 => {
            if let Some(id) = w.pick_container(|c| matches!(c.kind, PodKind::Stateless) && c.live) {
                let lost = w.chance(0.15);
                w.stop(&id, lost);
            }
        }
        40..=49 => w.scale(true),
        50..=56 => w.scale(false),
        57..=71 => w.recreate_sts_pod(false),
        72..=79 => w.recreate_sts_pod(true),
        80..=84 => w.duplicate_add(),
        85..=89 => {
            let node = NODES[w.rng_range(0, NODES.len() as u64) as usize];
            w.gc(node);
        }
        90..=92 => w.restart_daemon(),
        93..=95 => {
            let node = NODES[w.rng_range(0, NODES.len() as u64) as usize];
            w.expire(node);
        }
        _ => w.change_sts_pools(),
    }
}

/// Checked after every step; `full` adds the O(n) rebuild of every index
/// (apply already asserts ownership and slot invariants on each change).
fn check(w: &World, full: bool) {
    if full {
        w.alloc.check_invariants().expect("allocator invariants");
    }
    assert_eq!(
        w.alloc.records().count(),
        w.store.len(),
        "allocator and store diverged"
    );
    for held in w.alloc.records() {
        assert_eq!(
            Some(&held),
            w.store.get(&held.address),
            "allocator and store diverged"
        );
    }
    for (id, c) in w.containers.iter().filter(|(_, c)| c.live) {
        let mut got: Vec<_> = w
            .alloc
            .records_of_attachment(&sim::world::attachment(id))
            .iter()
            .map(|r| r.address)
            .collect();
        got.sort();
        let mut want = c.result.clone();
        want.sort();
        assert_eq!(
            got, want,
            "live container {id} ({}) lost its addresses",
            c.pod
        );
    }
    for usage in w.alloc.pool_usage() {
        let n = w.store.values().filter(|r| r.pool == usage.name).count() as u64;
        assert_eq!(usage.used, n, "pool {} count", usage.name);
        assert!(usage.used <= usage.total);
    }
}

/// Runs one seed's history; returns how many store commits it failed.
fn run_seed(seed: u64) -> u64 {
    let mut w = World::new(seed, pools());
    for i in 0..STEPS {
        step(&mut w);
        if let Err(e) =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&w, i % 8 == 0)))
        {
            eprintln!("simulation failed at step {i}");
            std::panic::resume_unwind(e);
        }
    }
    // Faults stop (the store too): every node's GC runs, every dead container is
    // collected, every address left belongs to a live container or is
    // retained for an identity.
    w.store_fault_rate = 0.0;
    w.gc_every_node();
    check(&w, true);
    for r in w.alloc.records().filter(|r| !r.is_attached()) {
        assert!(
            r.identity.is_some(),
            "{} retained without an identity",
            r.address
        );
    }
    w.store_faults
}

#[test]
fn simulated_histories_keep_the_invariants() {
    let seeds: Vec<u64> = match std::env::var("BERTH_SIM_SEED") {
        Ok(s) => vec![s.parse().expect("BERTH_SIM_SEED is a number")],
        Err(_) => {
            let n =
                std::env::var("BERTH_SIM_SEEDS").map_or(SEEDS, |n| n.parse().expect("a number"));
            (0..n).collect()
        }
    };
    let mut store_faults = 0;
    for seed in &seeds {
        let seed = *seed;
        let outcome = std::panic::catch_unwind(|| run_seed(seed));
        match outcome {
            Ok(faults) => store_faults += faults,
            Err(e) => {
                eprintln!("simulation seed {seed} failed; rerun with BERTH_SIM_SEED={seed}");
                std::panic::resume_unwind(e);
            }
        }
    }
    println!(
        "simulation: {} seeds x {STEPS} steps = {} operations, 3 nodes, {store_faults} store faults injected, 0 violations",
        seeds.len(),
        seeds.len() * STEPS
    );
}
