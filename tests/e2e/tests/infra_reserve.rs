//! "Keep .1–.9 of the pool for infra pods; others never get them", written
//! against contract 0.2 (`policies/infra-reserve`), decides 30 real ADDs:
//! berthd loads the component as its only policy, Debian's bridge plugin
//! exec's the real `berth` in network namespaces, and each pod's labels
//! reach the policy through the CNI config's `args.cni.labels`.
//!
//! With contract 0.1 the policy could only see 32 sampled free addresses
//! from a scattered start and got this right in 10 of 30 ADDs; with the
//! `free-in-range` query it must be 30 of 30.

use berth_e2e::scenario::{bare, Node, Pod};
use berth_wasm_build::{build_components, Profile};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::net::Ipv4Addr;
use std::path::Path;

const ADDS: usize = 30;

fn last_octet(cidr: &str) -> u8 {
    let address: Ipv4Addr = bare(cidr).parse().expect("an IPv4 address");
    address.octets()[3]
}

fn with_role(mut config: Value, role: &str) -> Value {
    config["args"] = json!({ "cni": { "labels": [{ "key": "role", "value": role }] } });
    config
}

#[test]
fn infra_pods_get_the_reserved_range_and_nobody_else_does() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let built = build_components(&root, &["infra-reserve"], Profile::Release)
        .unwrap_or_else(|e| panic!("building infra-reserve: {e}"));
    let modules = tempfile::tempdir().expect("temp dir");
    let module = modules.path().join("infra-reserve.wasm");
    std::fs::copy(&built[0].1, &module).expect("copy module");
    let digest = hex::encode(Sha256::digest(std::fs::read(&module).expect("read module")));

    let node = Node::start(json!({
        "pools": [{ "name": "lab", "subnet": "10.70.0.0/24", "ips": ["10.70.0.1-10.70.0.40"] }],
        "policies": [{
            "name": "infra-reserve",
            "file": module,
            "sha256": digest,
            "settings": {
                "infra": { "matchLabels": { "role": "infra" } },
                "reserve": [{ "pool": "lab", "range": "10.70.0.1-10.70.0.9" }]
            },
            "failurePolicy": "Fail"
        }]
    }));
    let net = node.bridge_config(&["lab"]);

    // Every fourth pod is infra: 8 of 30, within the 9 reserved addresses.
    let mut pods = Vec::new();
    let mut wrong = Vec::new();
    for i in 0..ADDS {
        let infra = i % 4 == 0;
        let pod = Pod::new(&format!("{}-{i}", if infra { "infra" } else { "web" }));
        let address = node.add(
            "bridge",
            &pod,
            &with_role(net.clone(), if infra { "infra" } else { "web" }),
        );
        let octet = last_octet(&address);
        let reserved = (1..=9).contains(&octet);
        if reserved != infra {
            wrong.push(format!("{} got {address}", pod.name));
        }
        pods.push((pod, infra, address));
    }
    assert!(
        wrong.is_empty(),
        "{} of {ADDS} ADDs right; wrong: {wrong:?}",
        ADDS - wrong.len()
    );

    // A released reserved address goes to the next infra pod, found by the
    // query though it may be nowhere in the sampled candidates; a web pod
    // ADDed meanwhile still stays out of the reserve.
    let (first_infra, _, freed) = pods
        .iter()
        .find(|(_, infra, _)| *infra)
        .expect("an infra pod");
    node.del("bridge", first_infra, &with_role(net.clone(), "infra"));
    let web = Pod::new("web-late");
    let web_address = node.add("bridge", &web, &with_role(net.clone(), "web"));
    assert!(last_octet(&web_address) >= 10, "{web_address}");
    let late = Pod::new("infra-late");
    assert_eq!(
        &node.add("bridge", &late, &with_role(net.clone(), "infra")),
        freed
    );

    // The ninth reserved address is the last; a tenth infra pod is refused
    // with the policy's reason instead of taking an ordinary address.
    let ninth = Pod::new("infra-ninth");
    assert!((1..=9).contains(&last_octet(&node.add(
        "bridge",
        &ninth,
        &with_role(net.clone(), "infra")
    ))));
    let tenth = Pod::new("infra-tenth");
    let refused = node.call("bridge", "ADD", &tenth, &with_role(net.clone(), "infra"));
    assert!(!refused.success, "{}", refused.stdout);
    assert!(
        refused.stdout.contains("reserved for infra pods"),
        "{}",
        refused.stdout
    );
}
