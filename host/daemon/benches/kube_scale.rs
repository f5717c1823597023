//! Kubernetes mode against cluster size: how one node's memory, start-up
//! time and API traffic per ADD grow with the number of `BerthAddress`
//! objects other nodes hold (issue 15, "Scale to Kubernetes' own limits").
//! `cargo bench -p berth-daemon --bench kube_scale`.
//!
//! For each size the bench fills the stand-in API server
//! (tests/kube-standin, which holds objects as JSON and counts requests and
//! the objects each list or initial watch served) with that many
//! addresses of another node, then starts the real `berthd serve` as
//! `node-a` and measures:
//!
//! * start-up: spawn until the CNI socket answers (state restored);
//! * RSS after start and peak (`VmHWM`) at the end;
//! * per plain ADD: API requests and objects read;
//! * per ADD that loses a race (another node took the requested address
//!   while this node's watch lags: the stand-in holds watch events):
//!   API requests and objects read;
//! * per GC pass (every second here): objects read.
//!
//! Each size runs twice on the same cluster: `relist`, the same-run
//! baseline (`BERTH_KUBE_REFRESH=relist`: every refresh lists every
//! BerthAddress, as berthd did before its watch feed), and `watch` (the
//! default). The 1,000-object row of a mode is its baseline: "constant in
//! cluster size" reads as every row of the mode equal to it. Sizes:
//! `BERTH_SCALE_SIZES` (comma-separated, default 1000,10000,100000,150000).

#[path = "support/rss.rs"]
mod rss;

use berth_kube_standin::ApiServer;
use berth_proto::{AddRequest, Attachment, PodRef, Request, Response};
use futures::StreamExt;
use serde_json::{json, Value};
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PLAIN_ADDS: usize = 50;
const RACED_ADDS: usize = 5;
const GC_WINDOW: Duration = Duration::from_secs(5);
const RSS_TARGET_MIB: f64 = 64.0;
const POOL: &str = "scale";
const RESOURCE: &str = "berthaddresses";

struct Row {
    mode: &'static str,
    objects: usize,
    startup: Duration,
    rss_start: f64,
    rss_peak: f64,
    plain_requests: f64,
    plain_read: f64,
    raced_requests: f64,
    raced_read: f64,
    gc_read: f64,
}

/// The `i`th address of the pool (10.0.0.0/12 has room for 1,048,574).
fn address(i: usize) -> String {
    let n = u32::try_from(i + 1).expect("size");
    std::net::Ipv4Addr::from(0x0a00_0000 | n).to_string()
}

fn object(i: usize, node: &str) -> Value {
    let addr = address(i);
    let uid = format!("00000000-0000-4000-8000-{i:012x}");
    json!({
        "apiVersion": "berth.io/v1alpha1", "kind": "BerthAddress",
        "metadata": {
            "name": format!("{POOL}.{}", addr.replace('.', "-")),
            "labels": { "berth.io/pool": POOL, "berth.io/node": node, "berth.io/pod-uid": uid }
        },
        "spec": {
            "pool": POOL, "address": addr, "network": "k8s-pod-network",
            "attachment": { "containerId": format!("{i:064x}"), "ifname": "eth0" },
            "pod": { "namespace": "bench", "name": format!("web-{i}"), "uid": uid },
            "interface": "eth0", "state": "Attached", "createdAtUnixSecs": 1_700_000_000u64,
            "node": node
        }
    })
}

fn cluster(objects: usize) -> ApiServer {
    let api = ApiServer::builder()
        .event_log_capacity(objects + 10_000)
        .start()
        .expect("stand-in");
    // berthd reads pools and reservations at start and follows addresses.
    api.register_berth_kinds();
    let client = api.block_on(async { api.client() }).expect("client");
    api.block_on(async move {
        let nodes: kube::Api<k8s_openapi::api::core::v1::Node> = kube::Api::all(client.clone());
        for node in ["node-a", "node-b"] {
            let n = serde_json::from_value(json!({ "metadata": { "name": node } })).expect("node");
            nodes.create(&Default::default(), &n).await.expect("node");
        }
        let pools: kube::Api<berth_kube::BerthPool> = kube::Api::all(client.clone());
        let pool = json!({ "apiVersion": "berth.io/v1alpha1", "kind": "BerthPool",
            "metadata": { "name": POOL }, "spec": { "subnet": "10.0.0.0/12" } });
        let pool = serde_json::from_value(pool).expect("pool");
        pools
            .create(&Default::default(), &pool)
            .await
            .expect("pool");
        let addresses: kube::Api<berth_kube::BerthAddress> = kube::Api::all(client);
        futures::stream::iter(0..objects)
            .map(|i| {
                let addresses = addresses.clone();
                async move {
                    let o = serde_json::from_value(object(i, "node-b")).expect("object");
                    addresses
                        .create(&Default::default(), &o)
                        .await
                        .expect("create");
                }
            })
            .buffer_unordered(32)
            .collect::<Vec<()>>()
            .await;
    });
    api
}

struct Daemon {
    child: Child,
    socket: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Daemon {
    fn start(api: &ApiServer, mode: &str) -> (Self, Duration) {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("berth.sock");
        let config = json!({
            "socketPath": socket, "dataDir": dir.path().join("data"),
            "policies": [{ "name": "sticky", "builtin": "sticky-statefulset" }],
            "kubernetes": { "apiServerUrl": api.url(), "gcIntervalSecs": 1, "gcGraceSecs": 60,
                            "poolSyncIntervalSecs": 3600 }
        });
        let config_path = dir.path().join("berthd.json");
        std::fs::write(&config_path, config.to_string()).expect("config");
        let started = Instant::now();
        let child = Command::new(env!("CARGO_BIN_EXE_berthd"))
            .args(["serve", "--config"])
            .arg(&config_path)
            .env("BERTH_NODE_NAME", "node-a")
            .env(berth_kube::feed::REFRESH_MODE_ENV, mode)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn berthd");
        while UnixStream::connect(&socket).is_err() {
            assert!(started.elapsed() < Duration::from_secs(600), "no start");
            std::thread::sleep(Duration::from_millis(5));
        }
        let startup = started.elapsed();
        let daemon = Self {
            child,
            socket,
            _dir: dir,
        };
        (daemon, startup)
    }

    /// (VmRSS, VmHWM) in MiB.
    fn rss_mib(&self) -> (f64, f64) {
        rss::rss_mib(self.child.id())
    }

    fn add(&self, n: usize, requested: Option<String>) -> Response {
        let request = Request::Add(AddRequest {
            attachment: Attachment {
                container_id: format!("a{n:063x}"),
                ifname: "eth0".into(),
            },
            network: "k8s-pod-network".into(),
            pod: PodRef {
                namespace: "bench".into(),
                name: format!("local-{n}"),
                uid: format!("10000000-0000-4000-8000-{n:012x}"),
            },
            pools: vec![POOL.into()],
            requested_ips: requested
                .iter()
                .map(|t| t.parse().expect("the bench asks for addresses"))
                .collect(),
            clean_gateway: None,
            labels: Vec::new(),
        });
        let mut stream = UnixStream::connect(&self.socket).expect("connect");
        berth_proto::write_frame(&mut stream, &request).expect("send");
        berth_proto::read_frame(&mut stream).expect("answer")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // Bench teardown: a failed kill means it is gone already.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn traffic(api: &ApiServer) -> (u64, u64) {
    (api.counts().total(), api.objects_read(RESOURCE))
}

fn measure(api: &ApiServer, objects: usize, mode: &'static str, round: usize) -> Row {
    let (daemon, startup) = Daemon::start(api, mode);
    let (rss_start, _) = daemon.rss_mib();

    // Plain ADDs. GC passes run meanwhile; pause GC's effect by counting
    // node lists (one per pass) and leaving them out is not possible, so
    // the ADDs run back to back and the GC cost is measured apart below.
    let first = round * 1_000;
    api.reset_counts();
    for n in first..first + PLAIN_ADDS {
        match daemon.add(n, None) {
            Response::Added(_) => {}
            other => panic!("ADD failed: {other:?}"),
        }
    }
    let (requests, read) = traffic(api);
    let plain_requests = requests as f64 / PLAIN_ADDS as f64;
    let plain_read = read as f64 / PLAIN_ADDS as f64;

    // ADDs of an address another node took a moment ago, which this node
    // has not heard of: its create loses on the object name.
    let client = api.block_on(async { api.client() }).expect("client");
    let addresses: kube::Api<berth_kube::BerthAddress> = kube::Api::all(client);
    let (mut raced_requests, mut raced_read) = (0u64, 0u64);
    for k in 0..RACED_ADDS {
        let i = objects + 100_000 + round * 1_000 + k;
        api.pause_watches(true);
        let taken = serde_json::from_value(object(i, "node-b")).expect("object");
        api.block_on(addresses.create(&Default::default(), &taken))
            .expect("create");
        api.reset_counts();
        let answer = daemon.add(first + PLAIN_ADDS + k, Some(address(i)));
        let (requests, read) = traffic(api);
        assert!(
            matches!(answer, Response::Error(_)),
            "{} was taken by node-b, yet node-a answered {answer:?}",
            address(i)
        );
        raced_requests += requests;
        raced_read += read;
        api.pause_watches(false);
    }

    // GC passes while idle.
    api.reset_counts();
    std::thread::sleep(GC_WINDOW);
    let passes = api.counts().get("list", "nodes").max(1);
    let gc_read = api.objects_read(RESOURCE) as f64 / passes as f64;
    let (_, rss_peak) = daemon.rss_mib();
    Row {
        mode,
        objects,
        startup,
        rss_start,
        rss_peak,
        plain_requests,
        plain_read,
        raced_requests: raced_requests as f64 / RACED_ADDS as f64,
        raced_read: raced_read as f64 / RACED_ADDS as f64,
        gc_read,
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::var("BERTH_SCALE_SIZES")
        .unwrap_or_else(|_| "1000,10000,100000,150000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("BERTH_SCALE_SIZES: numbers"))
        .collect();
    let mut rows = Vec::new();
    let mut object_bytes = 0.0;
    for &n in &sizes {
        let api = cluster(n);
        if object_bytes == 0.0 {
            // The JSON size of a stored object, as a watch event or a list
            // item carries it (etcd keeps about this much per object).
            let gvr = berth_kube_standin::Gvr::new("berth.io", "v1alpha1", RESOURCE);
            let objects = api.objects(&gvr);
            let bytes: usize = objects.iter().map(|o| o.to_string().len()).sum();
            object_bytes = bytes as f64 / objects.len().max(1) as f64;
        }
        for (round, mode) in ["relist", "watch"].into_iter().enumerate() {
            rows.push(measure(&api, n, mode, round));
        }
    }
    println!("\nKubernetes mode, one node (node-a) vs. BerthAddress objects of another node");
    println!(
        "{:>6} | {:>9} | {:>10} | {:>9} | {:>9} | {:>8} | {:>9} | {:>8} | {:>10} | {:>9}",
        "mode",
        "objects",
        "start-up",
        "RSS MiB",
        "peak MiB",
        "req/ADD",
        "read/ADD",
        "req/race",
        "read/race",
        "read/GC"
    );
    for r in &rows {
        println!(
            "{:>6} | {:>9} | {:>8.0}ms | {:>9.1} | {:>9.1} | {:>8.2} | {:>9.1} | {:>8.1} | {:>10.1} | {:>9.1}",
            r.mode,
            r.objects,
            r.startup.as_secs_f64() * 1000.0,
            r.rss_start,
            r.rss_peak,
            r.plain_requests,
            r.plain_read,
            r.raced_requests,
            r.raced_read,
            r.gc_read
        );
    }
    println!("one BerthAddress object: {object_bytes:.0} bytes of JSON");
    for mode in ["relist", "watch"] {
        let of_mode: Vec<&Row> = rows.iter().filter(|r| r.mode == mode).collect();
        let base = of_mode[0];
        let flat = |f: fn(&Row) -> f64| of_mode.iter().all(|r| f(r) <= f(base) * 1.1 + 0.5);
        let verdict = |ok: bool| if ok { "constant" } else { "GROWS" };
        println!(
            "{mode}: vs. the {}-object row: requests/ADD {}, objects read/ADD {}, per race {}, per GC pass {}",
            base.objects,
            verdict(flat(|r| r.plain_requests)),
            verdict(flat(|r| r.plain_read)),
            verdict(flat(|r| r.raced_read)),
            verdict(flat(|r| r.gc_read)),
        );
    }
    // Bytes of node RSS per cluster address, against the mode's smallest
    // row: the Kubernetes-mode counterpart of the memory bench's figure.
    for mode in ["relist", "watch"] {
        let of_mode: Vec<&Row> = rows.iter().filter(|r| r.mode == mode).collect();
        let base = of_mode[0];
        for r in of_mode.iter().skip(1) {
            let per_object = (r.rss_start - base.rss_start) * 1024.0 * 1024.0
                / (r.objects - base.objects) as f64;
            println!(
                "{mode}: {per_object:.0} bytes of RSS per cluster address ({} → {} objects)",
                base.objects, r.objects
            );
        }
    }
    for big in rows.iter().filter(|r| r.objects >= 150_000) {
        println!(
            "{}: peak RSS at {} objects: {:.1} MiB (target <= {RSS_TARGET_MIB} MiB): {}",
            big.mode,
            big.objects,
            big.rss_peak,
            if big.rss_peak <= RSS_TARGET_MIB {
                "met"
            } else {
                "NOT met"
            }
        );
    }
}
