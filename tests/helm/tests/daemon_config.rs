//! The rendered berthd.json is accepted by the daemon's own parser and
//! loader: `berthd check-config` parses it (Kubernetes mode's `kubernetes`
//! section included; it contacts no cluster), validates the node-local
//! pools of single-host mode and loads every policy of the chain, settings
//! included. For `file`, `configMap`
//! and `url` entries the test puts real components (the built-in policies'
//! bytes) where the pod would have them, under a temporary root, with the
//! digests pinned in the values.

// Tests: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use berth_helm_tests::{check_config, examples_dir, values, Helm, Rendered};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Renders with both helm versions, which must produce the same
/// berthd.json (so the daemon needs to check it once: a debug-built
/// berthd compiles every module it loads, which takes seconds).
fn render_both(values: &[&Path], sets: &[&str]) -> Rendered {
    let [v3, v4] = Helm::ALL.map(|helm| helm.render(values, sets));
    assert_eq!(
        v3.daemon_config_text(),
        v4.daemon_config_text(),
        "helm v3 and v4 render different configs for {values:?} {sets:?}"
    );
    v4
}

fn check_rendered(r: &Rendered) -> Result<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("berthd.json");
    std::fs::write(&path, r.daemon_config_text()).unwrap();
    check_config(&path)
}

/// The default render is Kubernetes mode; `berthd check-config` parses it
/// (the `kubernetes` section included, unknown keys refused) and loads the
/// policies, contacting no cluster; the config carries no pools.
#[test]
fn the_default_config_is_accepted() {
    let r = render_both(&[&values("default.yaml")], &[]);
    assert!(r.daemon_config()["kubernetes"].is_object());
    let out =
        check_rendered(&r).unwrap_or_else(|e| panic!("berthd refused the default config:\n{e}"));
    assert!(
        out.contains("config ok: 0 pool(s); policy chain: [sticky-statefulset]"),
        "{out}"
    );
}

#[test]
fn the_single_host_config_is_accepted_with_its_pools() {
    let r = render_both(&[&values("single-host.yaml")], &[]);
    let out =
        check_rendered(&r).unwrap_or_else(|e| panic!("refused:\n{e}\n{}", r.daemon_config_text()));
    assert!(out.contains("config ok: 1 pool(s)"), "{out}");
}

/// What the chart's schema and template refuse, berthd refuses too.
#[test]
fn berthd_refuses_kubernetes_mode_with_pools() {
    let mut config = Helm::V4
        .render(&[&values("single-host.yaml")], &[])
        .daemon_config();
    config["kubernetes"] = Helm::V4.render(&[], &[]).daemon_config()["kubernetes"].clone();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("berthd.json");
    std::fs::write(&path, serde_json::to_string(&config).unwrap()).unwrap();
    let err = check_config(&path).expect_err("Kubernetes mode with pools accepted");
    assert!(err.contains("BerthPool"), "{err}");
}

#[test]
fn the_sticky_off_config_and_the_seed_values_are_accepted() {
    let sticky_off = [
        "ipam.enableStatefulSet=false",
        "daemon.limits.requestsInFlightMax=8",
        "daemon.limits.expiryIntervalSecs=30",
    ];
    for r in [
        render_both(&[], &sticky_off),
        render_both(&[&examples_dir().join("values-seed.yaml")], &[]),
    ] {
        check_rendered(&r).unwrap_or_else(|e| panic!("refused:\n{e}\n{}", r.daemon_config_text()));
    }
}

/// Which built-in component stands in for each non-builtin entry of
/// full.yaml.
fn modules() -> BTreeMap<&'static str, &'static [u8]> {
    let get = |n| berth_builtin_policies::get(n).unwrap_or_else(|| panic!("no built-in {n}"));
    BTreeMap::from([
        ("quota", get("namespace-quota")),
        ("by-label", get("label-pool")),
        ("baked-in", get("ordinal-pinned")),
    ])
}

/// full.yaml with the digests of the stand-in modules, as a values file.
fn full_values_with_real_digests(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(values("full.yaml")).unwrap();
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let mut v: Value = serde_json::to_value(yaml).unwrap();
    let modules = modules();
    for p in v["policies"].as_array_mut().unwrap() {
        let name = p["name"].as_str().unwrap().to_owned();
        if let Some(bytes) = modules.get(name.as_str()) {
            p["sha256"] = Value::String(hex::encode(Sha256::digest(bytes)));
        }
    }
    let path = dir.join("full-real-digests.json");
    // JSON is YAML: helm reads it as a values file.
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    path
}

/// Places each module at its rendered `file` path under `root` and points
/// the config there; returns the config path.
fn stage(r: &Rendered, root: &Path, edit: impl Fn(&mut Value)) -> PathBuf {
    let mut config = r.daemon_config();
    let modules = modules();
    for p in config["policies"].as_array_mut().unwrap() {
        let Some(file) = p["file"].as_str() else {
            continue;
        };
        let dest = root.join(file.trim_start_matches('/'));
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(&dest, modules[p["name"].as_str().unwrap()]).unwrap();
        p["file"] = Value::String(dest.display().to_string());
    }
    edit(&mut config);
    let path = root.join("berthd.json");
    std::fs::write(&path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    path
}

#[test]
fn the_full_config_loads_modules_from_every_source() {
    let dir = tempfile::tempdir().unwrap();
    let r = render_both(&[&full_values_with_real_digests(dir.path())], &[]);
    let path = stage(&r, &dir.path().join("root"), |_| {});
    let out =
        check_config(&path).unwrap_or_else(|e| panic!("berthd refused the full config:\n{e}"));
    assert!(
        out.contains("0 pool(s); policy chain: [sticky, pinned, quota, by-label, baked-in]"),
        "{out}"
    );
}

/// Keeps only the policy `name` of a config (fewer modules to compile).
fn only(config: &mut Value, name: &str) {
    config["policies"]
        .as_array_mut()
        .unwrap()
        .retain(|p| p["name"] == name);
    assert_eq!(config["policies"].as_array().unwrap().len(), 1);
}

#[test]
fn check_config_refuses_a_module_that_does_not_match_its_digest() {
    let helm = Helm::V4;
    let dir = tempfile::tempdir().unwrap();
    let r = helm.render(&[&full_values_with_real_digests(dir.path())], &[]);
    let root = dir.path().join("root");
    let path = stage(&r, &root, |config| only(config, "by-label"));
    // Swap the downloaded module for another component.
    let downloaded = root.join("var/lib/berth-policies/by-label.wasm");
    std::fs::write(
        &downloaded,
        berth_builtin_policies::get("namespace-quota").unwrap(),
    )
    .unwrap();
    let err = check_config(&path).expect_err("a module with the wrong digest was accepted");
    assert!(err.contains("by-label"), "{err}");
}

#[test]
fn check_config_refuses_settings_the_policy_rejects() {
    let helm = Helm::V3;
    let dir = tempfile::tempdir().unwrap();
    let r = helm.render(&[&full_values_with_real_digests(dir.path())], &[]);
    let path = stage(&r, &dir.path().join("root"), |config| {
        only(config, "by-label");
        config["policies"][0]["settings"] = serde_json::json!({"rules": []});
    });
    let err = check_config(&path).expect_err("label-pool with no rules was accepted");
    assert!(err.contains("rules"), "{err}");
}
