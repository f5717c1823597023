//! Rendered manifests and the examples against Kubernetes' own schemas
//! (`kubernetes-validate --strict`, two Kubernetes versions), and custom
//! resources (the examples' BerthPools, the chart's default pool) against
//! the openAPIV3Schema of the CRDs in charts/berth/crds/.
//!
//! kubernetes-validate knows only built-in kinds: it reports a custom
//! resource as "Couldn't find schema". The test accepts that answer only
//! for the custom kinds it then validates itself (BerthPool) or checks by
//! hand (Multus' NetworkAttachmentDefinition, whose CRD is not ours).

// Tests: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use berth_helm_tests::crd::Crd;
use berth_helm_tests::{
    crds_dir, examples_dir, kubernetes_validate, read_yaml_docs, str_at, values, Helm, Rendered,
};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Kubernetes versions to validate against (the installed
/// kubernetes-validate 1.37.0 carries schemas for 1.25 to 1.37).
const KUBERNETES_VERSIONS: [&str; 2] = ["1.30.0", "1.33.0"];

/// Custom kinds kubernetes-validate cannot know.
const CUSTOM_KINDS: [&str; 2] = ["BerthPool", "NetworkAttachmentDefinition"];

/// Runs kubernetes-validate --strict on `file` for `version`; checks that
/// every built-in object passed and every other one is a known custom kind.
fn validate_strict(file: &Path, version: &str, docs: &[Value]) {
    let out = Command::new(kubernetes_validate())
        .args(["--strict", "-k", version])
        .arg(file)
        .output()
        .expect("running kubernetes-validate");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "kubernetes-validate --strict -k {version} {}:\n{stdout}{stderr}",
        file.display()
    );
    let major_minor = version.rsplit_once('.').map(|(mm, _)| mm).unwrap();
    let mut passed = 0;
    for line in stdout.lines().chain(stderr.lines()) {
        if line.starts_with("INFO") && line.contains("passed for resource") {
            assert!(
                line.contains(&format!("against version {major_minor}")),
                "{line}"
            );
            passed += 1;
        } else if line.starts_with("WARN") {
            assert!(
                CUSTOM_KINDS
                    .iter()
                    .any(|k| line.contains(&format!("Couldn't find schema for kind {k} "))),
                "unexpected warning: {line}"
            );
        } else if !line.trim().is_empty() {
            panic!("unexpected output from kubernetes-validate: {line}");
        }
    }
    let builtin = docs
        .iter()
        .filter(|d| !CUSTOM_KINDS.contains(&d["kind"].as_str().unwrap_or_default()))
        .count();
    assert_eq!(passed, builtin, "{}: {stdout}", file.display());
}

fn write_rendered(dir: &Path, name: &str, r: &Rendered) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, &r.text).unwrap();
    path
}

#[test]
fn rendered_manifests_pass_kubernetes_validate_strict() {
    let dir = tempfile::tempdir().unwrap();
    for helm in Helm::ALL {
        for file in ["default.yaml", "full.yaml"] {
            let r = helm.render(&[&values(file)], &[]);
            let path = write_rendered(dir.path(), &format!("{helm:?}-{file}"), &r);
            for version in KUBERNETES_VERSIONS {
                validate_strict(&path, version, &r.docs);
            }
        }
        for sets in [
            &["metrics.enabled=false"][..],
            &["cni.install=false", "rbac.create=false"],
        ] {
            let r = helm.render(&[], sets);
            let path = write_rendered(dir.path(), &format!("{helm:?}-sets.yaml"), &r);
            validate_strict(&path, KUBERNETES_VERSIONS[1], &r.docs);
        }
    }
}

#[test]
fn kubernetes_validate_does_refuse_a_broken_daemonset() {
    // The check above can fail: the same DaemonSet with a misspelt field
    // and a wrong type is refused.
    let r = Helm::V4.render(&[&values("default.yaml")], &[]);
    let mut ds = r.one("DaemonSet").clone();
    ds["spec"]["template"]["spec"]["hostNetwork"] = json!("yes");
    ds["spec"]["template"]["spec"]["tolerationz"] = json!([]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.yaml");
    std::fs::write(&path, serde_yaml::to_string(&ds).unwrap()).unwrap();
    let out = Command::new(kubernetes_validate())
        .args(["--strict", "-k", KUBERNETES_VERSIONS[0]])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn example_manifests() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(examples_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        // values-*.yaml are Helm values, not manifests.
        .filter(|p| {
            !p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("values-")
        })
        .collect();
    files.sort();
    files
}

#[test]
fn example_manifests_pass_kubernetes_validate_strict() {
    let files = example_manifests();
    assert!(files.len() >= 4, "{files:?}");
    for file in files {
        let docs = read_yaml_docs(&file);
        for version in KUBERNETES_VERSIONS {
            validate_strict(&file, version, &docs);
        }
    }
}

fn example_docs() -> Vec<Value> {
    example_manifests()
        .iter()
        .flat_map(|f| read_yaml_docs(f))
        .collect()
}

/// The CRD file `name` of charts/berth/crds/, which the Kubernetes-store
/// work generates. Its absence fails the test: the chart would install
/// BerthPool objects with no CRD.
fn crd(name: &str) -> Crd {
    let path = crds_dir().join(name);
    assert!(
        path.is_file(),
        "{} is missing: the chart ships the CRDs there (generated by the Kubernetes store's CRD generator)",
        path.display()
    );
    Crd::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_crds_are_the_cluster_scoped_berth_kinds() {
    let pools = crd("berthpools.yaml");
    assert_eq!(
        (
            pools.group.as_str(),
            pools.kind.as_str(),
            pools.plural.as_str()
        ),
        ("berth.io", "BerthPool", "berthpools")
    );
    let addresses = crd("berthaddresses.yaml");
    assert_eq!(
        (
            addresses.group.as_str(),
            addresses.kind.as_str(),
            addresses.plural.as_str()
        ),
        ("berth.io", "BerthAddress", "berthaddresses")
    );
    for c in [&pools, &addresses] {
        assert!(!c.namespaced, "{} must be cluster-scoped", c.name);
        assert!(
            c.versions
                .iter()
                .any(|(v, served, _)| v == "v1alpha1" && *served),
            "{} serves no v1alpha1",
            c.name
        );
    }
}

fn assert_valid(crd: &Crd, object: &Value, origin: &str) {
    let report = crd.validate(object);
    assert!(
        report.errors.is_empty(),
        "{origin}: {} does not validate against {}:\n{}",
        object["metadata"]["name"],
        crd.name,
        report.errors.join("\n")
    );
    if report.cel_rules_not_checked > 0 {
        eprintln!(
            "{origin}: {} x-kubernetes-validations rule(s) not evaluated (no CEL here)",
            report.cel_rules_not_checked
        );
    }
}

#[test]
fn example_and_default_pools_validate_against_the_crd() {
    let pools = crd("berthpools.yaml");
    let examples: Vec<Value> = example_docs()
        .into_iter()
        .filter(|d| d["kind"] == "BerthPool")
        .collect();
    assert!(!examples.is_empty());
    for pool in &examples {
        assert_valid(&pools, pool, "examples/kubernetes");
    }
    for helm in Helm::ALL {
        let r = helm.render(&[&values("full.yaml")], &[]);
        assert_valid(&pools, r.one("BerthPool"), &format!("{helm:?} full.yaml"));
        let r = helm.render(
            &[],
            &["defaultPool.enabled=true", "defaultPool.subnet=fd00:6::/64"],
        );
        assert_valid(
            &pools,
            r.one("BerthPool"),
            &format!("{helm:?} minimal default pool"),
        );
    }
}

#[test]
fn the_crd_refuses_a_broken_pool() {
    // The validation above can fail: a misspelt spec field is refused.
    let pools = crd("berthpools.yaml");
    let mut pool = example_docs()
        .into_iter()
        .find(|d| d["kind"] == "BerthPool")
        .unwrap();
    pool["spec"]["sbunet"] = pool["spec"]["subnet"].take();
    pool["spec"].as_object_mut().unwrap().remove("subnet");
    assert!(!pools.validate(&pool).errors.is_empty(), "{pool}");
}

#[test]
fn the_seed_examples_hang_together() {
    let docs = example_docs();
    let find = |kind: &str, name: &str| {
        docs.iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name} in examples/kubernetes"))
    };
    let pool = find("BerthPool", "test-ippool");
    assert_eq!(pool["spec"]["subnet"], "10.6.0.0/16");
    assert_eq!(pool["spec"]["ips"], json!(["10.6.168.101-10.6.168.110"]));

    let nad = find("NetworkAttachmentDefinition", "macvlan-ens192");
    assert_eq!(nad["apiVersion"], "k8s.cni.cncf.io/v1");
    let cni: Value = serde_json::from_str(str_at(nad, "/spec/config")).expect("NAD config is JSON");
    assert_eq!(cni["type"], "macvlan");
    assert_eq!(cni["ipam"], json!({"type": "berth"}));
    assert_eq!(cni["name"], nad["metadata"]["name"]);
    let network = format!(
        "{}/{}",
        str_at(nad, "/metadata/namespace"),
        str_at(nad, "/metadata/name")
    );

    let sts = find("StatefulSet", "test-sts");
    assert_eq!(sts["spec"]["replicas"], 2);
    let deploy = find("Deployment", "test-deploy");
    for workload in [sts, deploy] {
        let annotations = &workload["spec"]["template"]["metadata"]["annotations"];
        assert_eq!(annotations["berth.io/ippool"], "test-ippool");
        assert_eq!(
            annotations["v1.multus-cni.io/default-network"],
            network.as_str()
        );
    }
}
