//! Kubernetes mode: a crash between the writes of one batch (the store has
//! no transactions) never stops a node from starting, and an identity ends
//! with exactly one address.

mod cluster;

use berth_kube::CRASH_AFTER_ADDRESS_WRITES_ENV;
use cluster::{eventually, sticky, Berthd, Cluster};
use serde_json::{json, Value};

/// The addresses the cluster's BerthAddress objects hold for `identity`.
fn held_by(cluster: &Cluster, identity: &str) -> Vec<String> {
    let mut held: Vec<String> = cluster
        .addresses()
        .iter()
        .filter(|a| a["spec"]["identity"]["key"] == identity)
        .filter_map(|a| a["spec"]["address"].as_str().map(str::to_owned))
        .collect();
    held.sort();
    held
}

fn on_pool(pool: &str) -> Value {
    json!({ "berth.io/ippool": pool })
}

/// A StatefulSet pod whose pool changed is moved with two writes: create
/// the new record, delete the old one. berthd aborts right after write
/// `crash_after` of the move; then it and a second node start.
fn crash_during_a_pool_move(crash_after: u32) {
    let cluster = Cluster::start();
    cluster.node("node-a");
    cluster.node("node-b");
    cluster.pool("p1", "10.72.0.0/24", &[]);
    cluster.pool("p2", "10.73.0.0/24", &[]);
    let uid = cluster.stateful_set("m", 1);
    let owner = Some(("StatefulSet", "m", uid.as_str()));
    let mut a = Berthd::start(&cluster, "node-a", sticky("0s"));
    let m0 = cluster.pod("m-0", "node-a", owner, on_pool("p1"));
    let old = a.add(&m0, "c1").expect("add m-0");
    a.del(&m0, "c1");
    assert_eq!(held_by(&cluster, "default/m/0"), vec![old.clone()]);

    // Re-created with the pool annotation changed; the ADD moves it.
    cluster.delete_pod("m-0");
    let m0 = cluster.pod("m-0", "node-a", owner, on_pool("p2"));
    a.restart_with_env(&[(CRASH_AFTER_ADDRESS_WRITES_ENV, &crash_after.to_string())]);
    let answer = a.add(&m0, "c2");
    assert!(answer.is_err(), "answered though it crashed: {answer:?}");
    eventually("berthd aborted at the crash point", 10, || a.exited());

    // Both nodes start on what the crash left.
    a.restart();
    let b = Berthd::start(&cluster, "node-b", sticky("0s"));
    let new = a.add(&m0, "c2").expect("the runtime's retried ADD");
    assert!(new.starts_with("10.73."), "moved to p2: {new}");
    eventually("the identity holds exactly one address", 30, || {
        held_by(&cluster, "default/m/0") == vec![new.clone()]
    });
    eventually("node-b's view agrees", 30, || {
        b.knows(&new) && !b.knows(&old)
    });
    assert!(!a.log().contains("inconsistent records"), "{}", a.log());
    if crash_after == 1 {
        assert!(
            a.log().contains("partial store write"),
            "the repair was not logged:\n{}",
            a.log()
        );
    }
}

#[test]
fn crash_after_the_create_of_a_move() {
    crash_during_a_pool_move(1);
}

#[test]
fn crash_after_the_delete_of_a_move() {
    crash_during_a_pool_move(2);
}

/// A late DEL from a node whose view predates another node's write of the
/// same record re-reads it and succeeds at once (it used to answer
/// TryAgainLater until the node's next periodic refresh).
#[test]
fn a_stale_nodes_del_rereads_and_succeeds() {
    let cluster = Cluster::start();
    cluster.node("node-a");
    cluster.node("node-b");
    cluster.pool("p1", "10.74.0.0/24", &[]);
    let uid = cluster.stateful_set("db", 1);
    let owner = Some(("StatefulSet", "db", uid.as_str()));
    // node-a never refreshes on its own during the test.
    let a = Berthd::start_with_gc_interval(&cluster, "node-a", sticky("0s"), 3600);
    let b = Berthd::start(&cluster, "node-b", sticky("0s"));
    let db0 = cluster.pod("db-0", "node-a", owner, on_pool("p1"));
    let address = a.add(&db0, "d0").expect("add on node-a");

    // The pod is re-created on node-b before node-a's DEL arrives.
    cluster.delete_pod("db-0");
    let db0_b = cluster.pod("db-0", "node-b", owner, on_pool("p1"));
    eventually("node-b sees node-a's record", 30, || b.knows(&address));
    assert_eq!(b.add(&db0_b, "d1").expect("add on node-b"), address);

    a.del(&db0, "d0"); // asserts Ok
    let objects = cluster.addresses();
    assert_eq!(objects.len(), 1, "{objects:?}");
    assert_eq!(objects[0]["spec"]["attachment"]["containerId"], "d1");
    assert_eq!(objects[0]["spec"]["state"], "Attached");
}

/// Scrapes of /metrics while ADDs hold the allocator lock across slow API
/// calls: the scrapes used to take the lock on the runtime's two workers,
/// which the lock holder's API calls need — the daemon stalled.
#[test]
fn metrics_scrapes_during_slow_api_calls_do_not_stall_adds() {
    use std::io::{Read, Write};
    let cluster = Cluster::start();
    cluster.node("node-a");
    cluster.pool("p1", "10.75.0.0/24", &[]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let a = Berthd::start_with_config(&cluster, "node-a", sticky("0s"), |config| {
        config["metricsAddress"] = json!(format!("127.0.0.1:{port}"));
    });
    cluster
        .api
        .set_latency(std::time::Duration::from_millis(300));
    let stop = std::sync::atomic::AtomicBool::new(false);
    let scrapes = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
                        continue;
                    };
                    let mut body = String::new();
                    if write!(c, "GET /metrics HTTP/1.1\r\n\r\n").is_ok()
                        && c.read_to_string(&mut body).is_ok()
                        && body.contains("berth_requests_total")
                    {
                        scrapes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
        for i in 0..4 {
            let pod = cluster.pod(&format!("w{i}"), "node-a", None, on_pool("p1"));
            let added = a.add(&pod, &format!("cw{i}"));
            assert!(
                added.is_ok(),
                "ADD {i} stalled under scrapes: {added:?}\n{}",
                a.log()
            );
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    cluster.api.set_latency(std::time::Duration::ZERO);
    assert!(scrapes.into_inner() > 0, "no scrape was answered");
}
