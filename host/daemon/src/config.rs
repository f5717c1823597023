//! The daemon's one config file: pools, the ordered policy chain, paths and
//! limits. Parsed and validated once, at start and at every reload; a bad
//! file is refused whole and the running config stays in force.

use crate::limits::REQUEST_TIMEOUT_MS_MAX;
use crate::limits::REQUEST_TIMEOUT_MS_MIN;
use crate::limits::{
    CONFIG_BYTES_MAX, CONFIG_POLL_INTERVAL_SECS_DEFAULT, EXPIRY_INTERVAL_SECS_DEFAULT,
    REQUESTS_IN_FLIGHT_DEFAULT, REQUESTS_IN_FLIGHT_MAX, REQUEST_TIMEOUT_MS_DEFAULT,
};
use berth_core::pool::PoolSpec;
use berth_policy_runtime::PolicyConfig;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Default directory of compiled policies, inside `dataDir`.
pub const POLICY_CACHE_DIR: &str = "policy-cache";

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DaemonConfig {
    /// Unix socket the CNI plugin and the CLI talk to (mode 0600).
    #[serde(default = "default_socket_path")]
    pub socket_path: PathBuf,
    /// Directory of the embedded database (`berth.redb`).
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Where compiled policies are kept by module digest, so a restart
    /// or reload does not compile them again; absent: `dataDir/policy-cache`.
    #[serde(default)]
    pub policy_cache_dir: Option<PathBuf>,
    /// Where to serve `/metrics`; absent means no metrics endpoint.
    #[serde(default)]
    pub metrics_address: Option<SocketAddr>,
    /// This node's name, passed to policies (defaults to the hostname).
    #[serde(default)]
    pub node_name: Option<String>,
    #[serde(default)]
    pub pools: Vec<PoolSpec>,
    /// Addresses no pool hands out (addresses, canonical CIDRs or ranges
    /// `start-end`, either family); what BerthReservedIP objects are in
    /// Kubernetes mode. One reserved while held stays with its holder.
    #[serde(default)]
    pub reserved: Vec<String>,
    /// The ordered policy chain. Absent: the built-in default
    /// (`sticky-statefulset`); an empty list runs no policies at all.
    #[serde(default = "default_policies")]
    pub policies: Vec<PolicyConfig>,
    #[serde(default)]
    pub limits: DaemonLimits,
    /// Present: Kubernetes mode (state in the API server, pools from
    /// BerthPool objects). Absent: single host, embedded store.
    #[serde(default)]
    pub kubernetes: Option<crate::kube::KubernetesConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct DaemonLimits {
    /// Socket requests served at once; more wait for a slot.
    pub requests_in_flight_max: usize,
    /// How often retained bindings are checked for expiry.
    pub expiry_interval_secs: u64,
    /// Socket read/write timeout per request.
    pub request_timeout_ms: u64,
    /// How often the config file is checked for changes (a Helm upgrade
    /// rewrites the mounted ConfigMap); a change reloads like SIGHUP.
    pub config_poll_interval_secs: u64,
    /// The caps policies run under (`policy_limits.rs`), read at start:
    /// linear memory beyond what a component declares,
    pub policy_memory_growth_bytes: usize,
    /// linear memory no policy may exceed (declared plus growth),
    pub policy_memory_bytes_max: usize,
    /// core module instances of one policy (componentize-py makes 38),
    pub policy_core_instances_max: u32,
    /// linear memories and tables one policy may define.
    pub policy_memories_max: u32,
    pub policy_tables_max: u32,
}

impl Default for DaemonLimits {
    fn default() -> Self {
        let policy = berth_policy_runtime::RuntimeLimits::default();
        Self {
            requests_in_flight_max: REQUESTS_IN_FLIGHT_DEFAULT,
            expiry_interval_secs: EXPIRY_INTERVAL_SECS_DEFAULT,
            request_timeout_ms: REQUEST_TIMEOUT_MS_DEFAULT,
            config_poll_interval_secs: CONFIG_POLL_INTERVAL_SECS_DEFAULT,
            policy_memory_growth_bytes: policy.memory_growth_bytes,
            policy_memory_bytes_max: policy.memory_bytes_max,
            policy_core_instances_max: policy.core_instances_per_policy_max,
            policy_memories_max: policy.memories_per_policy_max,
            policy_tables_max: policy.tables_per_policy_max,
        }
    }
}

fn default_socket_path() -> PathBuf {
    PathBuf::from(berth_proto::DEFAULT_SOCKET_PATH)
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("/var/lib/berth")
}

fn default_policies() -> Vec<PolicyConfig> {
    vec![PolicyConfig::builtin(
        "sticky-statefulset",
        "sticky-statefulset",
    )]
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config {path} is {len_bytes} bytes, more than the {CONFIG_BYTES_MAX} allowed")]
    TooLarge { path: PathBuf, len_bytes: u64 },
    #[error("config {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("config {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl DaemonConfig {
    /// `policyCacheDir`, or its default inside `dataDir`.
    pub fn policy_cache_dir(&self) -> PathBuf {
        self.policy_cache_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join(POLICY_CACHE_DIR))
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let read_err = |source| ConfigError::Read {
            path: path.to_owned(),
            source,
        };
        let len_bytes = std::fs::metadata(path).map_err(read_err)?.len();
        if len_bytes > CONFIG_BYTES_MAX {
            return Err(ConfigError::TooLarge {
                path: path.to_owned(),
                len_bytes,
            });
        }
        let text = std::fs::read_to_string(path).map_err(read_err)?;
        Self::parse(&text).map_err(|e| match e {
            ConfigError::Parse { source, .. } => ConfigError::Parse {
                path: path.to_owned(),
                source,
            },
            ConfigError::Invalid { message, .. } => ConfigError::Invalid {
                path: path.to_owned(),
                message,
            },
            other => other,
        })
    }

    /// Parses and checks what can be checked without loading anything
    /// (pools are validated by the allocator, policies by the runtime).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let config: Self = serde_json::from_str(text).map_err(|source| ConfigError::Parse {
            path: PathBuf::new(),
            source,
        })?;
        let invalid = |message: String| ConfigError::Invalid {
            path: PathBuf::new(),
            message,
        };
        if config.limits.requests_in_flight_max == 0 {
            return Err(invalid(
                "limits.requestsInFlightMax must be at least 1".into(),
            ));
        }
        if !(REQUEST_TIMEOUT_MS_MIN..=REQUEST_TIMEOUT_MS_MAX)
            .contains(&config.limits.request_timeout_ms)
        {
            return Err(invalid(format!(
                "limits.requestTimeoutMs must be between {REQUEST_TIMEOUT_MS_MIN} and {REQUEST_TIMEOUT_MS_MAX} (it bounds every request; keep it at or below the plugin's ipam.timeoutMs)"
            )));
        }
        if config.limits.requests_in_flight_max > REQUESTS_IN_FLIGHT_MAX {
            return Err(invalid(format!(
                "limits.requestsInFlightMax must be at most {REQUESTS_IN_FLIGHT_MAX}"
            )));
        }
        if config.limits.config_poll_interval_secs == 0 {
            return Err(invalid(
                "limits.configPollIntervalSecs must be at least 1".into(),
            ));
        }
        if config.limits.expiry_interval_secs == 0 {
            return Err(invalid(
                "limits.expiryIntervalSecs must be at least 1".into(),
            ));
        }
        if !config.socket_path.is_absolute() {
            return Err(invalid(format!(
                "socketPath {:?} must be absolute",
                config.socket_path
            )));
        }
        if let Some(dir) = config
            .policy_cache_dir
            .as_ref()
            .filter(|d| !d.is_absolute())
        {
            return Err(invalid(format!("policyCacheDir {dir:?} must be absolute")));
        }
        if config.kubernetes.is_some() && !config.pools.is_empty() {
            return Err(invalid(
                "in Kubernetes mode pools come from BerthPool objects; remove `pools` from the config".into(),
            ));
        }
        if let Some(k) = &config.kubernetes {
            if k.gc_interval_secs == 0 || k.pool_sync_interval_secs == 0 {
                return Err(invalid(
                    "kubernetes.gcIntervalSecs and poolSyncIntervalSecs must be at least 1".into(),
                ));
            }
        }
        if config.kubernetes.is_some() && !config.reserved.is_empty() {
            return Err(invalid(
                "in Kubernetes mode reserved addresses come from BerthReservedIP objects; remove `reserved` from the config".into(),
            ));
        }
        config
            .reserved_set()
            .map_err(|e| invalid(format!("reserved: {e}")))?;
        // Duplicate names are judged with the other pool problems
        // (`berth_core::admission`), so a refusal lists every reason at once.
        for pool in &config.pools {
            // Only Kubernetes mode knows namespace and node labels; a
            // selector that silently matched nothing (or everything) here
            // would mislead the operator.
            if !pool.namespace_selector.is_empty() || !pool.node_selector.is_empty() {
                return Err(invalid(format!(
                    "pool {:?}: namespaceSelector and nodeSelector need Kubernetes mode (a single host has no namespace or node labels); remove them",
                    pool.name
                )));
            }
        }
        Ok(config)
    }

    /// The `reserved` entries as the allocator takes them.
    pub fn reserved_set(&self) -> Result<berth_core::Reserved, berth_core::ReservedError> {
        berth_core::Reserved::parse(&self.reserved)
    }

    /// This node's name: `BERTH_NODE_NAME` (set from the downward API in
    /// the chart, since one ConfigMap serves every node), else `nodeName`,
    /// else the hostname.
    pub fn node(&self) -> String {
        std::env::var("BERTH_NODE_NAME")
            .ok()
            .filter(|n| !n.is_empty())
            .or_else(|| self.node_name.clone())
            .unwrap_or_else(hostname)
    }
}

/// The settings read once at start. A reload applies pools and policies;
/// a change to any of these is reported as needing a restart instead of
/// being silently ignored.
#[derive(Debug, Clone, PartialEq)]
pub struct StartOnly {
    socket_path: PathBuf,
    data_dir: PathBuf,
    policy_cache_dir: PathBuf,
    metrics_address: Option<SocketAddr>,
    node_name: Option<String>,
    limits: DaemonLimits,
    kubernetes: Option<crate::kube::KubernetesConfig>,
}

impl StartOnly {
    pub fn of(config: &DaemonConfig) -> Self {
        StartOnly {
            socket_path: config.socket_path.clone(),
            data_dir: config.data_dir.clone(),
            policy_cache_dir: config.policy_cache_dir(),
            metrics_address: config.metrics_address,
            node_name: config.node_name.clone(),
            limits: config.limits.clone(),
            kubernetes: config.kubernetes.clone(),
        }
    }

    /// The config keys whose value differs between `self` and `other`.
    pub fn changed(&self, other: &StartOnly) -> Vec<String> {
        [
            ("socketPath", self.socket_path != other.socket_path),
            ("dataDir", self.data_dir != other.data_dir),
            (
                "policyCacheDir",
                self.policy_cache_dir != other.policy_cache_dir,
            ),
            (
                "metricsAddress",
                self.metrics_address != other.metrics_address,
            ),
            ("nodeName", self.node_name != other.node_name),
            ("limits", self.limits != other.limits),
            ("kubernetes", self.kubernetes != other.kubernetes),
        ]
        .into_iter()
        .filter(|(_, changed)| *changed)
        .map(|(key, _)| key.to_owned())
        .collect()
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_cache_lives_in_the_data_dir_unless_configured() {
        let parse =
            |extra: &str| DaemonConfig::parse(&format!(r#"{{"dataDir": "/srv/berth"{extra}}}"#));
        let default = parse("").expect("valid");
        assert_eq!(
            default.policy_cache_dir(),
            PathBuf::from("/srv/berth/policy-cache")
        );
        let set = parse(r#", "policyCacheDir": "/var/cache/berth""#).expect("valid");
        assert_eq!(set.policy_cache_dir(), PathBuf::from("/var/cache/berth"));
        assert!(StartOnly::of(&default)
            .changed(&StartOnly::of(&set))
            .contains(&"policyCacheDir".to_owned()));
        let relative = parse(r#", "policyCacheDir": "cache""#);
        assert!(
            matches!(&relative, Err(ConfigError::Invalid { message, .. }) if message.contains("policyCacheDir")),
            "{relative:?}"
        );
    }

    #[test]
    fn pool_selectors_are_refused_on_a_single_host() {
        let config = |selector: &str| {
            format!(
                r#"{{"socketPath": "/run/berth/berth.sock", "dataDir": "/tmp/berth",
                    "pools": [{{"name": "lab", "subnet": "10.7.0.0/24", {selector}}}]}}"#
            )
        };
        assert!(DaemonConfig::parse(&config(r#""default": true"#)).is_ok());
        for selector in [
            r#""nodeSelector": {"zone": "a"}"#,
            r#""namespaceSelector": {"team": "db"}"#,
        ] {
            let err = DaemonConfig::parse(&config(selector)).expect_err(selector);
            let message = err.to_string();
            assert!(
                message.contains("pool \"lab\"") && message.contains("need Kubernetes mode"),
                "{message}"
            );
        }
    }
}
