//! Allocation cost must be flat in pool size and fill: plan_add + apply on
//! an empty /24 against a /16 that is 99 % full (holes scattered at
//! random), measured interleaved in one run with a trivial abstaining
//! chain. Target: the /16 within 1.5x of the /24.
//! `cargo bench -p berth-core --bench alloc`.

use berth_core::chain::{run_chain, ChainError, ChainHost, ChainOutcome, PolicyChain};
use berth_core::{AddInput, Allocator, Pool, PoolSpec};
use berth_policy_sdk::Request;
use berth_proto::{Attachment, PodRef};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;

const ROUNDS: usize = 20_000;
const WARMUP: usize = 1_000;

struct Abstain;

impl PolicyChain for Abstain {
    fn run(&self, request: Request, host: &dyn ChainHost) -> Result<ChainOutcome, ChainError> {
        run_chain(&mut [], request, host)
    }
}

fn pool(name: &str, subnet: &str) -> Pool {
    let spec: PoolSpec =
        serde_json::from_value(serde_json::json!({"name": name, "subnet": subnet})).expect("spec");
    Pool::from_spec(&spec).expect("pool")
}

fn input(pool: &str, tag: &str, n: usize) -> AddInput {
    AddInput {
        attachment: Attachment {
            container_id: container_id(tag, n),
            ifname: "eth0".into(),
        },
        network: "net".into(),
        pod: PodRef {
            namespace: "default".into(),
            name: format!("pod-{n}"),
            uid: format!("uid-{n}"),
        },
        interface: "eth0".into(),
        pools: vec![pool.into()],
        requested: Vec::new(),
        labels: Vec::new(),
        annotations: Vec::new(),
        owner: None,
        stateful_set: None,
        node: "node".into(),
        placement: None,
        seed: n as u64,
    }
}

/// 64 hex digits like a real container id (ids diverge early, as
/// runtime-generated ones do).
fn container_id(tag: &str, n: usize) -> String {
    let mut x = (n as u64) + if tag == "fill" { 0 } else { 1 << 40 };
    let mut out = String::with_capacity(64);
    for _ in 0..4 {
        // splitmix64
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.push_str(&format!("{:016x}", z ^ (z >> 31)));
    }
    out
}

/// One timed plan_add + apply (µs); the DEL that restores the fill is
/// not timed.
fn round(alloc: &mut Allocator, pool: &str, n: usize) -> f64 {
    let add = input(pool, "bench", n);
    let start = Instant::now();
    let plan = alloc.plan_add(&add, &Abstain, 1).expect("add");
    assert_eq!(plan.mutations.len(), 1, "a new attachment gets one address");
    alloc.apply(&plan.mutations);
    let took = start.elapsed().as_nanos() as f64 / 1000.0;
    let del = alloc.plan_del(&add.attachment, 2);
    alloc.apply(&del);
    took
}

fn stats(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    (at(0.5), at(0.99))
}

fn main() {
    let mut small = Allocator::new(vec![pool("small", "10.0.0.0/24")]).expect("small");
    // The /16 shares its allocator with a second empty /24 ("near"), so the
    // same run also separates the cost of pool size and fill from that of
    // a daemon holding 65k records (bigger maps, a busier heap).
    let mut big = Allocator::new(vec![
        pool("big", "10.1.0.0/16"),
        pool("near", "10.2.0.0/24"),
    ])
    .expect("big");
    let total = big.pool_usage()[0].total as usize;
    let fill_start = Instant::now();
    for n in 0..total {
        let plan = big
            .plan_add(&input("big", "fill", n), &Abstain, 0)
            .expect("fill");
        big.apply(&plan.mutations);
    }
    // Free 1 % at random so the free space is scattered holes.
    let mut rng = SmallRng::seed_from_u64(7);
    let mut freed = 0;
    while freed < total / 100 {
        let n = rng.random_range(0..total);
        let del = big.plan_del(&input("big", "fill", n).attachment, 0);
        freed += del.len();
        big.apply(&del);
    }
    let usage = &big.pool_usage()[0];
    println!(
        "filled /16 to {}/{} ({:.1} %) in {:.1} s",
        usage.used,
        usage.total,
        100.0 * usage.used as f64 / usage.total as f64,
        fill_start.elapsed().as_secs_f64()
    );

    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for n in 0..WARMUP + ROUNDS {
        // Interleaved so machine noise hits all alike.
        let ta = round(&mut small, "small", n);
        let tb = round(&mut big, "big", n);
        let tc = round(&mut big, "near", n);
        if n >= WARMUP {
            a.push(ta);
            b.push(tb);
            c.push(tc);
        }
    }
    let (a50, a99) = stats(a);
    let (b50, b99) = stats(b);
    let (c50, c99) = stats(c);
    println!("plan_add+apply, empty /24:   median {a50:.2} us, p99 {a99:.2} us (n={ROUNDS})");
    println!("plan_add+apply, 99 % /16:    median {b50:.2} us, p99 {b99:.2} us (n={ROUNDS})");
    println!("plan_add+apply, empty /24 beside the 99 % /16: median {c50:.2} us, p99 {c99:.2} us");
    println!(
        "ratio /16 : /24  median {:.2}x, p99 {:.2}x (target <= 1.5x)",
        b50 / a50,
        b99 / a99
    );
    println!(
        "ratio /16 : /24 in the same daemon  median {:.2}x, p99 {:.2}x",
        b50 / c50,
        b99 / c99
    );
}
