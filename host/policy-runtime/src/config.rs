//! One entry of the policy list, as the daemon's config file and the Helm
//! values spell it.
//!
//! ```json
//! { "name": "sticky", "builtin": "sticky-statefulset",
//!   "settings": { "holdAfterScaleDown": "10m" }, "failurePolicy": "Fail" }
//! { "name": "quota", "file": "/etc/berth/policies/quota.wasm",
//!   "sha256": "9f86d0…", "settings": {}, "failurePolicy": "Ignore" }
//! ```
//!
//! Exactly one of `builtin` and `file` names the module. `sha256` pins it
//! (lowercase or uppercase hex; checked before compiling); a `file` must
//! have one (a built-in is pinned by the binary that embeds it). `settings`
//! defaults to `{}`, `failurePolicy` to `Fail`. Unknown keys are refused,
//! so a typo never silently drops a setting.

use berth_core::chain::FailurePolicy;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;

/// Where a policy's component comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    /// A policy compiled into the daemon (`berth_builtin_policies`).
    Builtin(String),
    /// A component file on the node.
    File(PathBuf),
    /// Component bytes already in memory (tests, embedding).
    Bytes(Arc<[u8]>),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawPolicyConfig")]
pub struct PolicyConfig {
    /// Unique within the chain; shown in traces, logs and metrics.
    pub name: String,
    pub source: PolicySource,
    /// Expected sha256 of the module, hex.
    pub sha256: Option<String>,
    /// Handed to the policy as JSON: validated at load, passed to every call.
    pub settings: serde_json::Value,
    pub failure_policy: FailurePolicy,
}

impl PolicyConfig {
    pub fn new(name: impl Into<String>, source: PolicySource) -> Self {
        Self {
            name: name.into(),
            source,
            sha256: None,
            settings: serde_json::Value::Object(serde_json::Map::new()),
            failure_policy: FailurePolicy::Fail,
        }
    }

    pub fn builtin(name: impl Into<String>, builtin: impl Into<String>) -> Self {
        Self::new(name, PolicySource::Builtin(builtin.into()))
    }

    pub fn bytes(name: impl Into<String>, bytes: impl Into<Arc<[u8]>>) -> Self {
        Self::new(name, PolicySource::Bytes(bytes.into()))
    }

    pub fn with_settings(mut self, settings: serde_json::Value) -> Self {
        self.settings = settings;
        self
    }

    pub fn with_failure_policy(mut self, failure_policy: FailurePolicy) -> Self {
        self.failure_policy = failure_policy;
        self
    }

    pub fn with_sha256(mut self, digest: impl Into<String>) -> Self {
        self.sha256 = Some(digest.into());
        self
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawPolicyConfig {
    name: String,
    #[serde(default)]
    builtin: Option<String>,
    #[serde(default)]
    file: Option<PathBuf>,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    settings: Option<serde_json::Value>,
    #[serde(default)]
    failure_policy: FailurePolicy,
}

impl TryFrom<RawPolicyConfig> for PolicyConfig {
    type Error = String;

    fn try_from(raw: RawPolicyConfig) -> Result<Self, String> {
        let source = match (raw.builtin, raw.file) {
            (Some(builtin), None) => PolicySource::Builtin(builtin),
            (None, Some(file)) if raw.sha256.is_none() => {
                return Err(format!(
                    "policy {:?}: `file` needs `sha256`, the module's digest (sha256sum {}); \
                     only built-in policies are pinned by the berthd binary",
                    raw.name,
                    file.display()
                ))
            }
            (None, Some(file)) => PolicySource::File(file),
            (Some(_), Some(_)) => {
                return Err(format!(
                    "policy {:?}: set either `builtin` or `file`, not both",
                    raw.name
                ))
            }
            (None, None) => {
                return Err(format!(
                    "policy {:?}: set `builtin` (a policy shipped with Berth) or `file` (a component path)",
                    raw.name
                ))
            }
        };
        let mut config = Self::new(raw.name, source).with_failure_policy(raw.failure_policy);
        config.sha256 = raw.sha256;
        if let Some(settings) = raw.settings {
            config.settings = settings;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builtin_and_file_shapes_parse() {
        let c: PolicyConfig = serde_json::from_value(json!({
            "name": "sticky", "builtin": "sticky-statefulset",
            "settings": {"a": 1}, "failurePolicy": "Ignore"
        }))
        .expect("parses");
        assert_eq!(c.source, PolicySource::Builtin("sticky-statefulset".into()));
        assert_eq!(c.settings, json!({"a": 1}));
        assert_eq!(c.failure_policy, FailurePolicy::Ignore);

        let c: PolicyConfig = serde_json::from_value(json!({
            "name": "x", "file": "/etc/berth/policies/x.wasm", "sha256": "ab"
        }))
        .expect("parses");
        assert_eq!(
            c.source,
            PolicySource::File("/etc/berth/policies/x.wasm".into())
        );
        assert_eq!(c.sha256.as_deref(), Some("ab"));
        assert_eq!(c.settings, json!({}));
        assert_eq!(c.failure_policy, FailurePolicy::Fail);
    }

    #[test]
    fn a_file_without_a_pin_is_refused_saying_how_to_pin_it() {
        let error = serde_json::from_value::<PolicyConfig>(json!({
            "name": "quota", "file": "/etc/berth/policies/quota.wasm"
        }))
        .expect_err("a file needs sha256");
        let message = error.to_string();
        assert!(message.contains("`file` needs `sha256`"), "{message}");
        assert!(
            message.contains("sha256sum /etc/berth/policies/quota.wasm"),
            "{message}"
        );
    }

    #[test]
    fn ambiguous_missing_or_unknown_keys_are_refused() {
        for bad in [
            json!({"name": "x"}),
            json!({"name": "x", "builtin": "a", "file": "/b"}),
            json!({"name": "x", "builtin": "a", "failurePolicy": "Sometimes"}),
            json!({"name": "x", "builtin": "a", "setings": {}}),
            json!({"name": "x", "file": "/etc/berth/policies/x.wasm"}),
        ] {
            assert!(
                serde_json::from_value::<PolicyConfig>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}
