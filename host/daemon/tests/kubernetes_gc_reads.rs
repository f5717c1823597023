//! Kubernetes mode: what a GC pass costs the API server. A pass judges
//! every record of the node; reading each record's pod from the API server
//! made every pass cost one GET per pod on the node, forever (1,000 pods:
//! 1,000 GETs every interval). Live pods are known from the watch cache;
//! only a pod the cache lacks is read, and freeing still needs the API
//! server to say it is gone.

mod cluster;

use cluster::{eventually, sticky, Berthd, Cluster};
use serde_json::json;

const PODS: usize = 20;

#[test]
fn gc_passes_read_only_suspects_from_the_api_server() {
    let cluster = Cluster::start();
    cluster.node("node-a");
    cluster.pool("gc-reads", "10.6.0.0/16", &["10.6.168.101-10.6.168.140"]);
    // GC every second, one second of grace.
    let berthd = Berthd::start(&cluster, "node-a", sticky("0s"));
    let annotation = json!({ "berth.io/ippool": "gc-reads" });
    let pods: Vec<_> = (0..PODS)
        .map(|i| cluster.pod(&format!("web-{i}"), "node-a", None, annotation.clone()))
        .collect();
    let addresses: Vec<String> = pods
        .iter()
        .enumerate()
        .map(|(i, pod)| berthd.add(pod, &format!("c{i}")).expect("add"))
        .collect();

    // Three whole GC passes over the live pods (each starts by listing
    // the nodes).
    cluster.api.reset_counts();
    eventually("three GC passes", 30, || {
        cluster.api.counts().get("list", "nodes") >= 4
    });
    let gets = cluster.api.counts().get("get", "pods");
    assert!(
        gets < PODS as u64,
        "{gets} GETs of pods in three GC passes over {PODS} live pods: GC read live pods from the API server"
    );
    assert!(addresses.iter().all(|a| cluster.holds(a)));

    // A lost DEL is still collected: absence is read from the API server.
    cluster.delete_pod("web-0");
    eventually("web-0's address collected", 30, || {
        !cluster.holds(&addresses[0])
    });
    assert!(cluster.api.counts().get("get", "pods") > gets);
    assert!(addresses[1..].iter().all(|a| cluster.holds(a)));
}
