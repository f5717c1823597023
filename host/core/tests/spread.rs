//! Spread search starts (`Allocator::spread_cursors`): nodes sharing a pool
//! probe it at scattered points, deterministically, and still find the
//! last free address.

mod common;

use berth_core::Allocator;
use common::*;
use std::collections::BTreeSet;
use std::net::IpAddr;

fn node(seed: u64) -> Allocator {
    let mut alloc = Allocator::new(vec![pool("shared", "10.20.0.0/20", &[])]).expect("pools");
    alloc.spread_cursors(seed);
    alloc
}

fn take(alloc: &mut Allocator, tag: &str, n: usize) -> Vec<IpAddr> {
    let chain = NativeChain::abstaining();
    (0..n)
        .map(|i| {
            let addresses = add(
                alloc,
                &input(&format!("{tag}-{i}"), &format!("{tag}-{i}"), &["shared"]),
                &chain,
                1,
            )
            .expect("add");
            addresses[0]
        })
        .collect()
}

/// Nodes allocate in turn from their own (stale) views of one pool; a
/// node whose choice another already took refreshes its view from the
/// truth and plans again, as berthd does on a lost create race. Returns
/// how many refreshes 500 allocations cost.
fn refreshes_for_500(spread: bool) -> usize {
    let seed_of = |n: usize| (n as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let fresh = |n: usize| {
        // 2,046 addresses of a /16: the start must be a rank among them,
        // not an offset of the subnet, or it wraps to the lowest address.
        let spec = pool("shared", "10.20.0.0/16", &["10.20.0.1-10.20.7.254"]);
        let mut alloc = Allocator::new(vec![spec]).expect("pools");
        if spread {
            alloc.spread_cursors(seed_of(n));
        }
        alloc
    };
    let chain = NativeChain::abstaining();
    let mut nodes: Vec<Allocator> = (0..10).map(fresh).collect();
    let (mut truth, mut taken) = (Vec::new(), BTreeSet::new());
    let mut refreshes = 0;
    for i in 0..500 {
        let n = i % nodes.len();
        let pod = input(&format!("c{i}"), &format!("p{i}"), &["shared"]);
        loop {
            let plan = nodes[n].plan_add(&pod, &chain, 1).expect("plan");
            if taken.insert(plan.result[0].address) {
                truth.extend(plan.mutations.iter().cloned());
                apply(&mut nodes[n], &plan.mutations);
                break;
            }
            refreshes += 1;
            nodes[n] = fresh(n);
            apply(&mut nodes[n], &truth);
        }
    }
    refreshes
}

#[test]
fn spread_starts_keep_nodes_with_stale_views_out_of_each_others_way() {
    let (lowest_first, spread) = (refreshes_for_500(false), refreshes_for_500(true));
    eprintln!("refreshes for 500 allocations: lowest first {lowest_first}, spread {spread}");
    // Lowest-first loses nearly every race; scattered starts collide about
    // as often as random picks do (a few percent here).
    assert!(lowest_first > 400, "{lowest_first}");
    assert!(spread < 75, "{spread}");
}

#[test]
fn the_same_seed_and_state_plan_the_same_address() {
    let (mut a, mut b) = (node(42), node(42));
    assert_eq!(take(&mut a, "x", 20), take(&mut b, "x", 20));
}

#[test]
fn a_spread_search_still_finds_the_last_free_address() {
    let mut alloc = Allocator::new(vec![pool("tiny", "10.21.0.0/28", &[])]).expect("pools");
    alloc.spread_cursors(7);
    let chain = NativeChain::abstaining();
    let mut got = BTreeSet::new();
    // A /28 has 14 assignable addresses; every one is found.
    for i in 0..14 {
        let a = add(
            &mut alloc,
            &input(&format!("c{i}"), &format!("p{i}"), &["tiny"]),
            &chain,
            1,
        )
        .expect("a free address remains");
        got.insert(a[0]);
    }
    assert_eq!(got.len(), 14);
    assert!(add(&mut alloc, &input("c-full", "p-full", &["tiny"]), &chain, 1).is_err());
}
