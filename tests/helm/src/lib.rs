//! Harness for the Helm chart's tests: the genuine helm v3 and v4 binaries
//! and `kubernetes-validate` that `scripts/setup-helm` installs into
//! `.tools/`, rendering the chart into parsed documents, the daemon's
//! `berthd` binary, and a validator for custom resources against a CRD's
//! `openAPIV3Schema` ([`crd`]).
//!
//! Nothing here skips: a missing tool fails the test with the command that
//! installs it.

// Test support: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::panic)]
// The validator's unit tests write a whole CRD with `json!`.
#![recursion_limit = "256"]

pub mod crd;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The release name and namespace every render uses.
pub const RELEASE: &str = "berth";
pub const NAMESPACE: &str = "kube-system";

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

pub fn chart_dir() -> PathBuf {
    repo_root().join("charts/berth")
}

pub fn crds_dir() -> PathBuf {
    chart_dir().join("crds")
}

pub fn examples_dir() -> PathBuf {
    repo_root().join("examples/kubernetes")
}

/// A values file of this crate (`tests/helm/values/<name>`).
pub fn values(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("values")
        .join(name);
    assert!(path.is_file(), "{} is missing", path.display());
    path
}

fn tool(relative: &str) -> PathBuf {
    let path = repo_root().join(".tools").join(relative);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/setup-helm (it installs helm v3, helm v4 and kubernetes-validate into .tools/)",
        path.display()
    );
    path
}

/// One of the two genuine helm binaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Helm {
    V3,
    V4,
}

impl Helm {
    pub const ALL: [Helm; 2] = [Helm::V3, Helm::V4];

    pub fn path(self) -> PathBuf {
        match self {
            Helm::V3 => tool("helm3/helm"),
            Helm::V4 => tool("helm4/helm"),
        }
    }

    /// Runs helm with `args`; Ok(stdout) on success, Err(stderr + stdout).
    pub fn run(self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(self.path())
            .args(args)
            // No user config, cache or plugins leak into the tests.
            .env("HELM_CONFIG_HOME", scratch_dir("config"))
            .env("HELM_CACHE_HOME", scratch_dir("cache"))
            .env("HELM_DATA_HOME", scratch_dir("data"))
            .output()
            .unwrap_or_else(|e| panic!("running {:?}: {e}", self.path()));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if out.status.success() {
            Ok(stdout)
        } else {
            Err(format!("{stderr}{stdout}"))
        }
    }

    /// The version helm reports, e.g. "v3.18.0+gcc58e3f".
    pub fn version(self) -> String {
        self.run(&["version", "--short"])
            .unwrap_or_else(|e| panic!("{self:?} version: {e}"))
            .trim()
            .to_owned()
    }

    /// `helm template` of the chart with values files and `--set` pairs.
    pub fn template(self, values: &[&Path], sets: &[&str]) -> Result<String, String> {
        let chart = chart_dir();
        let mut args = vec![
            "template".to_owned(),
            RELEASE.to_owned(),
            chart.display().to_string(),
            "--namespace".to_owned(),
            NAMESPACE.to_owned(),
        ];
        for v in values {
            args.push("--values".to_owned());
            args.push(v.display().to_string());
        }
        for s in sets {
            args.push("--set".to_owned());
            args.push((*s).to_owned());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(&args)
    }

    /// Renders and parses, failing the test if helm refuses.
    pub fn render(self, values: &[&Path], sets: &[&str]) -> Rendered {
        let text = self
            .template(values, sets)
            .unwrap_or_else(|e| panic!("{self:?} template {values:?} {sets:?} failed:\n{e}"));
        Rendered::parse(&text)
    }
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("berth-helm-tests-{}", std::process::id()))
        .join(name);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The rendered manifests, each document parsed to JSON values.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub text: String,
    pub docs: Vec<Value>,
}

impl Rendered {
    pub fn parse(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            docs: parse_yaml_docs(text),
        }
    }

    pub fn kinds(&self) -> Vec<String> {
        self.docs
            .iter()
            .map(|d| str_at(d, "/kind").to_owned())
            .collect()
    }

    /// Every object of `kind`.
    pub fn all(&self, kind: &str) -> Vec<&Value> {
        self.docs
            .iter()
            .filter(|d| d["kind"] == kind)
            .collect::<Vec<_>>()
    }

    /// The one object of `kind`, failing if there is not exactly one.
    pub fn one(&self, kind: &str) -> &Value {
        let all = self.all(kind);
        assert_eq!(all.len(), 1, "expected one {kind}, got {}", all.len());
        all[0]
    }

    /// The daemon's config: berthd.json of the chart's ConfigMap, parsed.
    pub fn daemon_config(&self) -> Value {
        serde_json::from_str(&self.daemon_config_text()).expect("berthd.json is JSON")
    }

    pub fn daemon_config_text(&self) -> String {
        let cm = self.one("ConfigMap");
        cm["data"]["berthd.json"]
            .as_str()
            .expect("ConfigMap data berthd.json")
            .to_owned()
    }

    /// The policy names of the rendered chain, in order.
    pub fn policy_names(&self) -> Vec<String> {
        self.daemon_config()["policies"]
            .as_array()
            .expect("policies list")
            .iter()
            .map(|p| str_at(p, "/name").to_owned())
            .collect()
    }
}

/// Parses a multi-document YAML stream; empty documents are dropped.
pub fn parse_yaml_docs(text: &str) -> Vec<Value> {
    use serde::Deserialize as _;
    let mut docs = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let value = serde_yaml::Value::deserialize(doc).expect("valid YAML");
        if value.is_null() {
            continue;
        }
        docs.push(serde_json::to_value(value).expect("YAML representable as JSON"));
    }
    docs
}

pub fn read_yaml_docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_yaml_docs(&text)
}

/// The string at a JSON pointer, failing with the pointer if absent.
pub fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {v}"))
}

/// The container or init container `name` of a pod spec.
pub fn container<'a>(pod_spec: &'a Value, list: &str, name: &str) -> &'a Value {
    pod_spec[list]
        .as_array()
        .unwrap_or_else(|| panic!("pod spec has no {list}"))
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {list} entry named {name}"))
}

/// The volume `name` of a pod spec.
pub fn volume<'a>(pod_spec: &'a Value, name: &str) -> &'a Value {
    pod_spec["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no volume named {name}"))
}

/// The mount of volume `name` in a container.
pub fn mount<'a>(container: &'a Value, name: &str) -> &'a Value {
    container["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("container {} does not mount {name}", container["name"]))
}

/// `kubernetes-validate` from `.tools/`.
pub fn kubernetes_validate() -> PathBuf {
    tool("kubernetes-validate/bin/kubernetes-validate")
}

/// Directory of the workspace's built binaries: the test executable lives
/// in `<target>/<profile>/deps/` (as in tests/e2e).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps dir");
    deps.parent().expect("profile dir").to_path_buf()
}

/// The `berthd` binary, failing with instructions when it is not built.
pub fn berthd() -> PathBuf {
    let path = bin_dir().join("berthd");
    assert!(
        path.is_file(),
        "{} is missing: build it first with `cargo build -p berth-daemon` (same CARGO_TARGET_DIR as the tests; scripts/test does)",
        path.display()
    );
    path
}

/// `berthd check-config --config <path>`: Ok(stdout) or Err(stderr).
pub fn check_config(path: &Path) -> Result<String, String> {
    let out = Command::new(berthd())
        .args(["check-config", "--config"])
        .arg(path)
        .output()
        .expect("running berthd check-config");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        ))
    }
}
