//! Kubernetes mode: Spiderpool's pod annotations, read from the pod
//! through the kube directory (API-server stand-in): what Berth accepts
//! it honours as Spiderpool documents it (pool wildcards, `ippool` on any
//! interface, `ippools` by name or by order), and what it does not support
//! it refuses with code 7, writing nothing.

mod cluster;

use cluster::{eventually, sticky, Berthd, Cluster};
use serde_json::{json, Value};

fn address(result: &berth_proto::AddResult) -> String {
    result.ips[0].address.to_string()
}

#[test]
fn spiderpool_annotations_are_honoured_or_refused() {
    let cluster = Cluster::start();
    cluster.node("node-a");
    cluster.pool_with("main-v4", json!({ "subnet": "10.74.0.0/24" }));
    cluster.pool_with("backup-v4-b", json!({ "subnet": "10.74.2.0/24" }));
    cluster.pool_with("backup-v4-a", json!({ "subnet": "10.74.1.0/24" }));
    cluster.pool_with("main-v6", json!({ "subnet": "fd00:74::/64" }));
    cluster.pool_with("net-pool", json!({ "subnet": "10.75.0.0/24" }));
    let berthd = Berthd::start(&cluster, "node-a", sticky("0s"));
    let pod = |name: &str, annotations: Value| cluster.pod(name, "node-a", None, annotations);

    // A wildcard, as Spiderpool documents it: the matching pools in name order.
    let wild = pod(
        "wild",
        json!({ "ipam.spidernet.io/ippool": r#"{"ipv4":["backup-v4-*"]}"# }),
    );
    eventually("the pools are in force", 30, || {
        berthd.add_on(&wild, "w", "eth0", None).is_ok()
    });
    let got = berthd.add_on(&wild, "w", "eth0", None).expect("wildcard");
    assert!(address(&got).starts_with("10.74.1."), "{got:?}");

    // `ippool` applies to whichever interface is being configured.
    let second = pod(
        "second",
        json!({ "ipam.spidernet.io/ippool": r#"{"ipv4":["net-pool"]}"# }),
    );
    let got = berthd.add_on(&second, "s", "net1", None).expect("net1");
    assert!(address(&got).starts_with("10.75.0."), "{got:?}");

    // `ippools` without names: by order, eth0 then net1.
    let ordered = pod(
        "ordered",
        json!({ "ipam.spidernet.io/ippools": r#"[{"ipv4":["main-v4"]},{"ipv4":["net-*"]}]"# }),
    );
    let eth0 = berthd.add_on(&ordered, "o", "eth0", None).expect("eth0");
    let net1 = berthd.add_on(&ordered, "o", "net1", None).expect("net1");
    assert!(address(&eth0).starts_with("10.74.0."), "{eth0:?}");
    assert!(address(&net1).starts_with("10.75.0."), "{net1:?}");
    let held = cluster.addresses().len();
    assert_eq!(held, 4, "{:?}", cluster.addresses());

    // Refusals: code 7 with the reason, and nothing written.
    let cases = [
        (
            "unplaced",
            json!({ "ipam.spidernet.io/ippools": r#"[{"ipv4":["main-v4"]},{"ipv4":["net-pool"]}]"# }),
            "net2",
            "net2 would be entry 3",
        ),
        (
            "subnet",
            json!({ "ipam.spidernet.io/subnet": r#"{"ipv4":["subnet-a"]}"#,
                    "ipam.spidernet.io/ippool": r#"{"ipv4":["main-v4"]}"# }),
            "eth0",
            "ipam.spidernet.io/subnet: Berth has no SpiderSubnet",
        ),
        (
            "subnets",
            json!({ "ipam.spidernet.io/subnets": r#"[{"interface":"eth0","ipv4":["subnet-a"]}]"# }),
            "eth0",
            "create BerthPools",
        ),
        (
            "family",
            json!({ "ipam.spidernet.io/ippool": r#"{"ipv4":["main-v6"]}"# }),
            "eth0",
            "\"main-v6\" is an IPv6 pool but is listed among the IPv4 pools",
        ),
        (
            "nothing",
            json!({ "ipam.spidernet.io/ippool": r#"{"ipv4":["nothing-*"]}"# }),
            "eth0",
            "no pool matches",
        ),
        (
            "badglob",
            json!({ "ipam.spidernet.io/ippool": r#"{"ipv4":["main-[z-a]"]}"# }),
            "eth0",
            "pool pattern \"main-[z-a]\"",
        ),
    ];
    for (name, annotations, ifname, wanted) in cases {
        let p = pod(name, annotations);
        let err = berthd.add_on(&p, name, ifname, None).expect_err(name);
        assert!(
            err.starts_with("InvalidConfig") && err.contains(wanted),
            "{name}: {err}"
        );
    }
    assert_eq!(cluster.addresses().len(), held, "{:?}", cluster.addresses());
}
