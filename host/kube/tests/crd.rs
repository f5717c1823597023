//! The committed CRD YAML under charts/berth/crds/ is generated from the
//! Rust types; this test fails when they drift. Regenerate with
//! `BERTH_UPDATE_CRDS=1 cargo test -p berth-kube --test crd`.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

const HEADER: &str = "# Generated from host/kube (berth-kube) by its `crd` test; do not edit.\n\
# Regenerate: BERTH_UPDATE_CRDS=1 cargo test -p berth-kube --test crd\n";

fn crd_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../charts/berth/crds")
}

fn rendered() -> Vec<(&'static str, String)> {
    berth_kube::crds()
        .into_iter()
        .map(|(file, crd)| {
            (
                file,
                format!("{HEADER}{}", serde_saphyr::to_string(&crd).unwrap()),
            )
        })
        .collect()
}

#[test]
fn crd_yaml_matches_the_types() {
    let update = std::env::var_os("BERTH_UPDATE_CRDS").is_some_and(|v| v == "1");
    let mut drifted = Vec::new();
    for (file, yaml) in rendered() {
        let path = crd_dir().join(file);
        if update {
            std::fs::write(&path, &yaml).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != yaml {
            drifted.push(path.display().to_string());
        }
    }
    assert!(
        drifted.is_empty(),
        "CRD YAML differs from the Rust types: {drifted:?}\n\
         regenerate with BERTH_UPDATE_CRDS=1 cargo test -p berth-kube --test crd"
    );
}

#[test]
fn crds_have_the_expected_names_columns_and_scope() {
    use serde_json::Value;
    let crds: Vec<Value> = berth_kube::crds()
        .into_iter()
        .map(|(_, c)| serde_json::to_value(c).unwrap())
        .collect();
    let cols = |crd: &Value| -> Vec<String> {
        crd["spec"]["versions"][0]["additionalPrinterColumns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let pool = &crds[0];
    assert_eq!(pool["metadata"]["name"], "berthpools.berth.io");
    assert_eq!(pool["spec"]["scope"], "Cluster");
    assert_eq!(pool["spec"]["names"]["shortNames"][0], "bpool");
    assert_eq!(
        cols(pool),
        [
            "SUBNET",
            "ALLOCATED",
            "TOTAL",
            "RESERVED",
            "DEFAULT",
            "VALID",
            "AGE"
        ]
    );
    assert!(pool["spec"]["versions"][0]["subresources"]["status"].is_object());

    let addr = &crds[1];
    assert_eq!(addr["metadata"]["name"], "berthaddresses.berth.io");
    assert_eq!(addr["spec"]["scope"], "Cluster");
    assert_eq!(addr["spec"]["names"]["shortNames"][0], "baddr");
    assert_eq!(
        cols(addr),
        ["POOL", "ADDRESS", "POD", "IDENTITY", "STATE", "NODE", "AGE"]
    );

    let reserved = &crds[2];
    assert_eq!(reserved["metadata"]["name"], "berthreservedips.berth.io");
    assert_eq!(reserved["spec"]["scope"], "Cluster");
    assert_eq!(reserved["spec"]["names"]["shortNames"][0], "brip");
    assert_eq!(cols(reserved), ["IPS", "AGE"]);
    let ips = &reserved["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
        ["properties"]["ips"];
    assert_eq!(ips["minItems"], 1);
    assert!(ips["items"]["x-kubernetes-validations"].is_array());
}
