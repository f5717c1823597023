//! Issue 10 on a single host, through Debian's bridge plugin exec'ing the
//! real `berth` against a real `berthd`: pool changes an operator makes by
//! editing the config and reloading never take a held address away.

use berth_e2e::scenario::{bare, seed_config, Node, Pod};
use serde_json::Value;

/// Rewrites the config and reloads it (`berthd reload` answers once done).
fn reload(node: &Node, config: &Value) -> Value {
    node.daemon.rewrite_config(config.clone());
    node.daemon.cli(&["reload"])
}

/// Item 4: `disable: true` hands out nothing new; held and retained
/// addresses stay and the re-created sticky pod gets its address back.
#[test]
fn a_disabled_pool_keeps_its_addresses_and_hands_out_no_new_one() {
    let mut config = seed_config(vec![]);
    let node = Node::start(config.clone());
    let net = node.bridge_config(&["test-ippool"]);
    let sts = Pod::new("test-sts-0");
    let web = Pod::new("web-1");
    let sticky = node.add("bridge", &sts, &net);
    let stateless = node.add("bridge", &web, &net);
    node.del("bridge", &sts, &net);

    config["pools"][0]["disable"] = Value::Bool(true);
    reload(&node, &config);
    let held: Vec<Value> = node.daemon.allocations();
    assert_eq!(held.len(), 2, "disabling released something: {held:?}");

    let newcomer = Pod::new("web-2");
    let refused = node.call("bridge", "ADD", &newcomer, &net);
    assert!(
        !refused.success,
        "a disabled pool handed out {}",
        refused.stdout
    );
    let error = refused.json();
    assert_eq!(error["code"], 100, "{error}");
    assert!(
        error["msg"]
            .as_str()
            .is_some_and(|m| m.contains("pools [\"test-ippool\"] are disabled")),
        "{error}"
    );
    assert_eq!(
        node.daemon.allocations().len(),
        2,
        "the refusal changed state"
    );

    let again = sts.recreate();
    assert_eq!(
        node.add("bridge", &again, &net),
        sticky,
        "the sticky pod lost its address"
    );
    assert_eq!(
        node.daemon.address_of_pod("default/web-1"),
        vec![bare(&stateless).to_owned()]
    );
    let pools = node.daemon.cli(&["pools"]);
    assert_eq!(pools["pools"][0]["disabled"], true, "{pools}");
}
