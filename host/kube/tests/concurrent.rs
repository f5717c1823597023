//! "Never two owners across nodes": real allocators on two nodes, each
//! with its own KubeStore and client, allocate from one pool at once. Each
//! plans from its possibly stale view; the API server's name uniqueness
//! turns every collision into a `Conflict`, the node refreshes from
//! `load()` and plans again. At the end every request got an address and
//! no address is held twice.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use std::collections::HashSet;

#[test]
fn two_allocators_share_a_pool_without_duplicates() {
    let c = Cluster::start();
    let pool = pool_spec("test-ippool", "10.6.0.0/16", &["10.6.168.1-10.6.168.80"]);
    c.create_pool(&pool);
    let nodes = [
        Node::new("node-a", std::slice::from_ref(&pool), c.store("node-a")),
        Node::new("node-b", std::slice::from_ref(&pool), c.store("node-b")),
    ];
    let per_node = 35;
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = nodes
            .iter()
            .map(|node| {
                s.spawn(move || {
                    (0..per_node)
                        .map(|i| {
                            node.add(
                                &add_input(&format!("{}-{i}", node.name), &node.name),
                                &NoPolicies,
                                50,
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut addresses = HashSet::new();
    let mut conflicts = 0;
    for r in &results {
        let (addr, stats) = r.as_ref().unwrap();
        assert!(addresses.insert(*addr), "{addr} handed out twice");
        conflicts += stats.conflicts;
    }
    assert_eq!(addresses.len(), 2 * per_node);
    // The cluster holds exactly those, once each, by their names.
    let objects = c.address_objects();
    assert_eq!(objects.len(), 2 * per_node);
    let stored: HashSet<_> = objects
        .iter()
        .map(|o| o["spec"]["address"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(stored, addresses);
    // Both nodes started from the same empty view, so they collided.
    assert!(conflicts > 0, "expected the nodes to collide at least once");
    for node in &nodes {
        node.alloc.lock().unwrap().check_invariants().unwrap();
    }
    eprintln!("70 ADDs on 2 nodes: {conflicts} conflicts");
}
