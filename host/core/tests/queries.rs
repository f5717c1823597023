//! The allocator's answers to policies' queries (contract 0.2): free
//! addresses of a range from the free index, and release times, through
//! the `ChainHost` a chain runs with.

mod common;

use berth_core::chain::{run_chain, ChainError, ChainHost, ChainOutcome, PolicyChain};
use berth_core::Allocator;
use berth_policy_sdk::{Request, Retention};
use common::{input, pool, sts_input, NativeChain};
use std::net::IpAddr;
use std::sync::Mutex;

/// A chain of no policy that records what the host answers.
#[derive(Default)]
struct Probe {
    seen: Mutex<Vec<String>>,
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

impl PolicyChain for Probe {
    fn run(&self, request: Request, host: &dyn ChainHost) -> Result<ChainOutcome, ChainError> {
        let range = |pool: &str, first: &str, last: &str, limit: usize| {
            host.free_in_range(pool, ip(first), ip(last), limit)
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut seen = self.seen.lock().expect("probe lock");
        seen.push(range("p", "10.0.0.0", "10.0.0.255", 100));
        seen.push(range("p", "10.0.0.12", "10.0.0.14", 100));
        seen.push(range("p", "10.0.0.0", "10.0.255.255", 2));
        seen.push(range("q", "10.1.0.0", "10.1.0.255", 100));
        seen.push(range("p", "fd00::", "fd00::ff", 100));
        for a in ["10.0.0.10", "10.0.0.11", "10.0.0.15"] {
            seen.push(format!("{:?}", host.released_at("p", ip(a))));
        }
        drop(seen);
        run_chain(&mut [], request, host)
    }
}

#[test]
fn ranges_come_from_the_free_index_and_releases_keep_their_time() {
    let mut alloc = Allocator::new(vec![
        pool("p", "10.0.0.0/24", &["10.0.0.10-10.0.0.15"]),
        pool("q", "10.1.0.0/24", &["10.1.0.10-10.1.0.15"]),
    ])
    .expect("allocator");
    // .10 freed by a DEL at 200; .11 retained for its identity since 300;
    // .12 attached.
    let freed = alloc.plan_add(&input("c1", "a", &["p"]), &NativeChain::abstaining(), 100);
    alloc.apply_at(&freed.expect("plan").mutations, 100);
    let sticky = NativeChain::sticky();
    let kept = alloc.plan_add(&sts_input("c2", "db", 0, &["p"]), &sticky, 100);
    alloc.apply_at(&kept.expect("plan").mutations, 100);
    let held = alloc.plan_add(&input("c3", "c", &["p"]), &NativeChain::abstaining(), 100);
    alloc.apply_at(&held.expect("plan").mutations, 100);
    let del = alloc.plan_del(&common::attachment("c1"), 200);
    alloc.apply_at(&del, 200);
    let del = alloc.plan_del(&common::attachment("c2"), 300);
    alloc.apply_at(&del, 300);
    alloc.check_invariants().expect("invariants");
    let holders: Vec<String> = alloc.records().map(|r| format!("{}", r.address)).collect();
    assert_eq!(holders.len(), 2, "{holders:?}");
    assert!(matches!(
        alloc
            .records()
            .find(|r| r.address == ip("10.0.0.11"))
            .and_then(|r| r.identity.clone())
            .map(|i| i.retention),
        Some(Retention::KeepUntilRetired(0))
    ));

    let probe = Probe::default();
    alloc
        .plan_add(&input("c4", "d", &["p"]), &probe, 400)
        .expect("plan");
    let seen = probe.seen.lock().expect("probe lock").clone();
    assert_eq!(
        seen,
        [
            // Cut to the pool's subnet; held .11 and .12 skipped.
            "10.0.0.10,10.0.0.13,10.0.0.14,10.0.0.15",
            "10.0.0.13,10.0.0.14",
            "10.0.0.10,10.0.0.13",
            // Not one of the request's pools; another family.
            "",
            "",
            "Some(200)",
            "Some(300)",
            "None",
        ]
    );
}
