//! The seed walkthrough's single-host analogue, through Debian's bridge and
//! macvlan plugins exec'ing the real `berth` against a real `berthd`.

use berth_e2e::scenario::{bare, seed_config, Node, Pod};
use serde_json::json;

fn in_seed_range(address: &str) -> bool {
    let last: u32 = bare(address)
        .rsplit('.')
        .next()
        .and_then(|o| o.parse().ok())
        .unwrap_or(0);
    bare(address).starts_with("10.6.168.") && (101..=110).contains(&last)
}

#[test]
fn sticky_identities_keep_their_address_across_recreation() {
    let node = Node::start(seed_config(vec![]));
    let config = node.bridge_config(&["test-ippool"]);
    let sts0 = Pod::new("test-sts-0");
    let sts1 = Pod::new("test-sts-1");
    let a0 = node.add("bridge", &sts0, &config);
    let a1 = node.add("bridge", &sts1, &config);
    assert!(in_seed_range(&a0) && in_seed_range(&a1), "{a0} {a1}");
    assert_ne!(a0, a1);
    assert_eq!(
        node.daemon.address_of_pod("default/test-sts-0"),
        vec![bare(&a0).to_owned()]
    );
    let pools = node.daemon.cli(&["pools"]);
    assert_eq!(pools["pools"][0]["used"], 2, "{pools}");
    assert_eq!(pools["pools"][0]["total"], 10, "{pools}");

    // Delete both pods; the re-created ones (new sandbox, id and UID) get
    // the same addresses.
    node.del("bridge", &sts0, &config);
    node.del("bridge", &sts1, &config);
    let retained = node.daemon.allocations();
    assert!(
        retained.iter().all(|a| a["state"] == "retained"),
        "{retained:?}"
    );
    let sts0b = sts0.recreate();
    let sts1b = sts1.recreate();
    assert_eq!(node.add("bridge", &sts1b, &config), a1, "test-sts-1 moved");
    assert_eq!(node.add("bridge", &sts0b, &config), a0, "test-sts-0 moved");

    // A third identity gets a new address; a stateless pod a fresh one.
    let sts2 = Pod::new("test-sts-2");
    let a2 = node.add("bridge", &sts2, &config);
    assert!(in_seed_range(&a2) && a2 != a0 && a2 != a1, "{a2}");
    let web = Pod::new("web-5d8f7");
    let aw = node.add("bridge", &web, &config);
    assert!(![&a0, &a1, &a2].contains(&&aw), "{aw}");
    node.del("bridge", &web, &config);
    let stateless = node.daemon.allocations();
    assert!(
        !stateless.iter().any(|a| a["pod"] == "default/web-5d8f7"),
        "a stateless pod's address must be freed at DEL: {stateless:?}"
    );

    // DEL is idempotent: again, and for a pod that never had an address.
    node.del("bridge", &web, &config);
    let ghost = Pod::new("never-added");
    assert!(node.ipam("DEL", &ghost.container_id, "", &config).success);
}

#[test]
fn switching_the_pool_moves_the_identity_and_frees_the_old_address() {
    let other =
        json!({ "name": "other-pool", "subnet": "10.9.0.0/24", "ips": ["10.9.0.10-10.9.0.19"] });
    let node = Node::start(seed_config(vec![other]));
    let first = node.bridge_config(&["test-ippool"]);
    let pod = Pod::new("test-sts-0");
    let old = node.add("bridge", &pod, &first);
    node.del("bridge", &pod, &first);

    let second = node.bridge_config(&["other-pool"]);
    let again = pod.recreate();
    let new = node.add("bridge", &again, &second);
    assert!(bare(&new).starts_with("10.9.0."), "{new}");
    let held: Vec<_> = node
        .daemon
        .allocations()
        .iter()
        .filter_map(|a| a["address"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        held,
        vec![bare(&new).to_owned()],
        "the old {old} must be released"
    );
}

#[test]
fn macvlan_gets_the_same_sticky_address() {
    let node = Node::start(seed_config(vec![]));
    node.add_uplink("up0");
    let config = node.macvlan_config("up0", &["test-ippool"]);
    let pod = Pod::new("test-sts-0");
    let first = node.add("macvlan", &pod, &config);
    node.del("macvlan", &pod, &config);
    let again = pod.recreate();
    let result = node.add_result("macvlan", &again, &config);
    assert_eq!(result["ips"][0]["address"], first.as_str());
    let mut check = config.clone();
    check["prevResult"] = result;
    let checked = node.call("macvlan", "CHECK", &again, &check);
    assert!(
        checked.success,
        "CHECK failed: {} {}",
        checked.stdout, checked.stderr
    );
}
