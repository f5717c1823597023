//! A policy written in Python decides real ADDs: berthd loads the
//! componentize-py build of sticky-statefulset (built in the test with the
//! pinned toolchain) as its only policy, and Debian's bridge plugin exec's
//! the real `berth` in network namespaces. The Python policy states the
//! identities, so re-created pods get their addresses back only if it
//! really ran.

use berth_e2e::scenario::{bare, seed_config, Node, Pod};
use berth_wasm_build::foreign::{cached_component, Language};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::path::Path;

#[test]
fn a_python_policy_keeps_sticky_pods_on_their_addresses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let built = cached_component(
        &root,
        Language::Python,
        Path::new("policies/sticky-statefulset-python"),
    )
    .unwrap_or_else(|e| panic!("building the Python policy: {e}"));
    let modules = tempfile::tempdir().expect("temp dir");
    let module = modules.path().join("sticky.wasm");
    std::fs::copy(&built, &module).expect("copy module");
    let digest = hex::encode(Sha256::digest(std::fs::read(&module).expect("read module")));

    let mut config = seed_config(vec![]);
    config["policies"] = json!([{
        "name": "sticky-py",
        "file": module,
        "sha256": digest,
        "settings": { "stableIdentities": [{ "podNamePattern": "test-sts-*" }] },
        "failurePolicy": "Fail"
    }]);
    let node = Node::start(config);
    let net = node.bridge_config(&["test-ippool"]);

    let sts0 = Pod::new("test-sts-0");
    let web = Pod::new("web-5d8f7");
    let a0 = node.add("bridge", &sts0, &net);
    let aw = node.add("bridge", &web, &net);
    assert!(bare(&a0).starts_with("10.6.168."), "{a0}");
    assert_ne!(a0, aw);

    // DEL: the Python policy's identity keeps test-sts-0's address
    // retained; the stateless pod's is freed.
    node.del("bridge", &sts0, &net);
    node.del("bridge", &web, &net);
    let allocations = node.daemon.allocations();
    assert!(
        allocations
            .iter()
            .any(|a| a["state"] == "retained" && a["identity"] == "default/test-sts-0"),
        "the Python policy's identity is retained: {allocations:?}"
    );
    assert!(
        !allocations.iter().any(|a| a["pod"] == "default/web-5d8f7"),
        "{allocations:?}"
    );

    // Re-created (new sandbox, container id and UID): the same address,
    // picked by the Python policy.
    assert_eq!(
        node.add("bridge", &sts0.recreate(), &net),
        a0,
        "test-sts-0 moved"
    );
}
