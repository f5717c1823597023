//! Pool names in the CNI config may be Spiderpool-style patterns (`*`,
//! `?`, `[…]`), resolved against the daemon's pools; through Debian's
//! bridge plugin exec'ing the real `berth` against a real `berthd`.

use berth_e2e::scenario::{seed_config, Node, Pod};
use serde_json::json;

#[test]
fn patterns_in_the_cni_config_pick_pools_by_name_order_or_fail_with_code_7() {
    let node = Node::start(seed_config(vec![
        json!({ "name": "zone-b", "subnet": "10.64.2.0/24", "ips": ["10.64.2.10-10.64.2.20"] }),
        json!({ "name": "zone-a", "subnet": "10.64.1.0/24", "ips": ["10.64.1.10-10.64.1.20"] }),
    ]));
    // Both zones match; zone-a comes first by name though configured last.
    let pod = Pod::new("patterned");
    let config = node.bridge_config(&["zone-?"]);
    let address = node.add("bridge", &pod, &config);
    assert!(address.starts_with("10.64.1."), "{address}");
    node.del("bridge", &pod, &config);

    for (pattern, says) in [
        ("zone-[c-z]", "no pool matches"),
        ("zone-[b-a]", "pool pattern"),
    ] {
        let pod = Pod::new("refused");
        let config = node.bridge_config(&[pattern]);
        let out = node.call("bridge", "ADD", &pod, &config);
        assert_eq!(out.code(), 7, "{pattern}: {}", out.stdout);
        assert!(out.stdout.contains(says), "{pattern}: {}", out.stdout);
    }
    assert!(
        node.daemon.allocations().is_empty(),
        "{:?}",
        node.daemon.allocations()
    );
}
