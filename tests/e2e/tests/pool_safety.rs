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

/// `berthd reload` after writing `config`; its stderr when refused.
fn reload_refused(node: &Node, config: &Value) -> String {
    node.daemon.rewrite_config(config.clone());
    let out = std::process::Command::new(berth_e2e::workspace_bin("berthd"))
        .args(["reload", "--socket"])
        .arg(&node.daemon.socket)
        .output()
        .expect("run berthd reload");
    assert!(!out.status.success(), "the bad config was applied");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Item 5: `reserved` in a single-host config. No pool hands a reserved
/// address out; one reserved while held stays with its holder (a sticky
/// pod gets it back) until released, and is then never handed out again;
/// a malformed or reversed range is refused and changes nothing.
#[test]
fn reserved_addresses_are_never_handed_out_and_stay_with_their_holder() {
    let mut config = seed_config(vec![]);
    config["reserved"] = serde_json::json!(["10.6.168.101"]);
    let node = Node::start(config.clone());
    let net = node.bridge_config(&["test-ippool"]);
    let sts = Pod::new("test-sts-0");
    let web = Pod::new("web-1");
    let sticky = node.add("bridge", &sts, &net);
    let stateless = node.add("bridge", &web, &net);
    for got in [&sticky, &stateless] {
        assert_ne!(
            bare(got),
            "10.6.168.101",
            "a reserved address was handed out"
        );
    }
    node.del("bridge", &sts, &net);

    // Reserve both held addresses and all but two of the rest.
    let held = [bare(&sticky).to_owned(), bare(&stateless).to_owned()];
    let mut entries: Vec<String> = (101..=108)
        .map(|i| format!("10.6.168.{i}"))
        .filter(|a| !held.contains(a))
        .collect();
    entries.truncate(6);
    entries.extend(held.iter().cloned());
    config["reserved"] = serde_json::json!(entries);
    reload(&node, &config);
    assert_eq!(
        node.daemon.allocations().len(),
        2,
        "reserving released something"
    );
    let pools = node.daemon.cli(&["pools"]);
    assert_eq!(pools["pools"][0]["reserved"], 8, "{pools}");
    assert_eq!(pools["pools"][0]["used"], 2, "{pools}");

    // The two unreserved addresses go to new pods, then nothing.
    let free: Vec<String> = (1..=2)
        .map(|i| bare(&node.add("bridge", &Pod::new(&format!("new-{i}")), &net)).to_owned())
        .collect();
    for address in &free {
        assert!(!entries.contains(address), "{address} is reserved");
    }
    let refused = node.call("bridge", "ADD", &Pod::new("new-3"), &net);
    assert!(!refused.success, "handed out {}", refused.stdout);

    // The sticky pod, re-created, gets its reserved address back.
    assert_eq!(node.add("bridge", &sts.recreate(), &net), sticky);
    // web's address, released, is not handed out again while reserved.
    node.del("bridge", &web, &net);
    assert!(node.daemon.address_of_pod("default/web-1").is_empty());
    let refused = node.call("bridge", "ADD", &Pod::new("new-4"), &net);
    assert!(
        !refused.success,
        "handed out the released reserved address: {}",
        refused.stdout
    );

    // Bad entries are refused with a clear message and change nothing.
    let before = node.daemon.allocations();
    for (bad, words) in [
        ("10.6.168.110-10.6.168.101", "starts after its end"),
        ("10.6.168.1-10.6.168", "is not an IP address"),
        ("10.6.168.0/16", "canonical form"),
    ] {
        let mut broken = config.clone();
        broken["reserved"] = serde_json::json!(["10.6.168.109", bad]);
        let message = reload_refused(&node, &broken);
        assert!(
            message.contains(bad) && message.contains(words),
            "{bad}: {message}"
        );
        assert_eq!(node.daemon.allocations(), before, "{bad} changed state");
        let pools = node.daemon.cli(&["pools"]);
        assert_eq!(pools["pools"][0]["reserved"], 8, "{bad}: {pools}");
    }

    // Lifting the reservation frees them again.
    config["reserved"] = serde_json::json!([]);
    reload(&node, &config);
    node.add("bridge", &Pod::new("new-5"), &net);
}
