//! Kubernetes mode: a node learns what other nodes wrote from its watch of
//! BerthAddresses, not by re-listing the cluster. A lost race reads the
//! one contended object; a watch the API server expired (410 Gone) is
//! replaced by one fresh list and the node's view converges; concurrent
//! ADDs on two nodes never give an address two owners.

mod cluster;

use berth_proto::{AddRequest, Attachment, PodRef, Request, Response};
use cluster::{eventually, Berthd, Cluster};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::os::unix::net::UnixStream;

const RESOURCE: &str = "berthaddresses";

/// A BerthAddress another node (`node-b`) wrote, created behind node-a's back.
fn foreign(address: &str) -> Value {
    let uid = format!("00000000-0000-4000-8000-{:012x}", address.len());
    json!({
        "apiVersion": "berth.io/v1alpha1", "kind": "BerthAddress",
        "metadata": { "name": format!("feed.{}", address.replace('.', "-")),
                      "labels": { "berth.io/pool": "feed", "berth.io/node": "node-b" } },
        "spec": {
            "pool": "feed", "address": address, "network": "k8s-pod-network",
            "attachment": { "containerId": format!("b-{address}"), "ifname": "eth0" },
            "pod": { "namespace": "default", "name": format!("b-{address}"), "uid": uid },
            "interface": "eth0", "state": "Attached", "createdAtUnixSecs": 1_700_000_000u64,
            "node": "node-b"
        }
    })
}

fn add_requesting(berthd: &Berthd, container: &str, address: &str) -> Response {
    let request = Request::Add(AddRequest {
        attachment: Attachment {
            container_id: container.into(),
            ifname: "eth0".into(),
        },
        network: "k8s-pod-network".into(),
        pod: PodRef {
            namespace: "default".into(),
            name: container.into(),
            uid: format!("10000000-0000-4000-8000-{:012x}", container.len()),
        },
        pools: vec!["feed".into()],
        requested_ips: vec![address.parse().expect("address")],
        clean_gateway: None,
        labels: Vec::new(),
    });
    let mut stream = UnixStream::connect(&berthd.socket).expect("connect");
    berth_proto::write_frame(&mut stream, &request).expect("send");
    berth_proto::read_frame(&mut stream).expect("answer")
}

fn setup() -> (Cluster, Berthd) {
    let cluster = Cluster::start();
    cluster.node("node-a");
    cluster.node("node-b");
    cluster.pool("feed", "10.7.0.0/16", &["10.7.0.1-10.7.0.250"]);
    // GC (and with it a refresh) every second: refreshes must not list.
    // Pool status, which still counts each pool's addresses by a labelled
    // list (see ARCHITECTURE.md, "Scale"), is left out of the counts.
    let berthd = Berthd::start_with_config(&cluster, "node-a", json!([]), |config| {
        config["kubernetes"]["poolSyncIntervalSecs"] = json!(3600);
    });
    eventually("the pool is known", 30, || {
        matches!(
            add_requesting(&berthd, "probe", "10.7.0.250"),
            Response::Added(_)
        )
    });
    (cluster, berthd)
}

#[test]
fn a_lost_race_reads_only_the_contended_object() {
    let (cluster, berthd) = setup();
    // node-a's watch lags: it cannot know node-b took 10.7.0.10.
    cluster.api.pause_watches(true);
    cluster.create_cluster::<berth_kube::BerthAddress>(foreign("10.7.0.10"));
    cluster.api.reset_counts();
    let answer = add_requesting(&berthd, "c1", "10.7.0.10");
    let counts = cluster.api.counts();
    assert!(
        matches!(answer, Response::Error(_)),
        "node-b holds 10.7.0.10, yet node-a answered {answer:?}"
    );
    assert_eq!(counts.get("create", RESOURCE), 1, "{counts:?}");
    assert_eq!(
        counts.get("get", RESOURCE),
        1,
        "one read of the contended object: {counts:?}"
    );
    assert_eq!(
        counts.get("list", RESOURCE),
        0,
        "no list of the cluster: {counts:?}"
    );
    assert_eq!(cluster.api.objects_read(RESOURCE), 0);
    // The one object read is enough to know the address is taken.
    assert!(berthd.knows("10.7.0.10"));
    cluster.api.pause_watches(false);
    let mine = add_requesting(&berthd, "c2", "10.7.0.11");
    assert!(matches!(mine, Response::Added(_)), "{mine:?}");
}

#[test]
fn the_view_converges_after_the_watch_expires() {
    let (cluster, berthd) = setup();
    cluster.create_cluster::<berth_kube::BerthAddress>(foreign("10.7.0.20"));
    eventually("the watch delivers 10.7.0.20", 30, || {
        berthd.knows("10.7.0.20")
    });
    cluster.api.reset_counts();
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(
        cluster.api.objects_read(RESOURCE),
        0,
        "GC passes refreshed by listing: {:?}",
        cluster.api.counts()
    );

    // While the watch is held: one object comes, one goes, and the event
    // log is compacted, so the watch ends with 410 Gone.
    cluster.api.pause_watches(true);
    cluster.create_cluster::<berth_kube::BerthAddress>(foreign("10.7.0.21"));
    let client = cluster
        .api
        .block_on(async { cluster.api.client() })
        .expect("client");
    let api: kube::Api<berth_kube::BerthAddress> = kube::Api::all(client);
    cluster
        .api
        .block_on(api.delete("feed.10-7-0-20", &Default::default()))
        .expect("delete");
    cluster.api.compact();
    cluster.api.pause_watches(false);
    eventually("node-a's view converges", 30, || {
        berthd.knows("10.7.0.21") && !berthd.knows("10.7.0.20")
    });
    let lists = cluster.api.counts().get("list", RESOURCE);
    assert_eq!(
        lists,
        1,
        "one fresh list after the 410: {:?}",
        cluster.api.counts()
    );
    // Converged both ways: the freed address is offered again.
    let again = add_requesting(&berthd, "c3", "10.7.0.20");
    assert!(matches!(again, Response::Added(_)), "{again:?}");
}

#[test]
fn concurrent_adds_on_two_nodes_never_share_an_address() {
    let cluster = Cluster::start();
    cluster.node("node-a");
    cluster.node("node-b");
    // 40 addresses for 2 × 16 ADDs: the nodes' searches collide often.
    cluster.pool("feed", "10.7.0.0/16", &["10.7.0.1-10.7.0.40"]);
    let annotation = json!({ "berth.io/ippool": "feed" });
    let nodes = [
        Berthd::start(&cluster, "node-a", json!([])),
        Berthd::start(&cluster, "node-b", json!([])),
    ];
    let pods: Vec<Vec<PodRef>> = ["node-a", "node-b"]
        .iter()
        .map(|node| {
            (0..16)
                .map(|i| cluster.pod(&format!("{node}-p{i}"), node, None, annotation.clone()))
                .collect()
        })
        .collect();
    let answers: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = nodes
            .iter()
            .zip(&pods)
            .flat_map(|(berthd, pods)| {
                pods.iter().enumerate().map(move |(i, pod)| {
                    s.spawn(move || berthd.add(pod, &format!("{}-c{i}", pod.name)))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread").expect("every ADD is answered"))
            .collect()
    });
    let distinct: BTreeSet<&String> = answers.iter().collect();
    assert_eq!(
        distinct.len(),
        answers.len(),
        "an address with two owners: {answers:?}"
    );
    let objects = cluster.addresses();
    assert_eq!(
        objects.len(),
        answers.len(),
        "every answer has its one object"
    );
    for object in &objects {
        assert!(answers.contains(
            &object["spec"]["address"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        ));
    }
}
