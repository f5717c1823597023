//! The network configuration on stdin, validated once into [`NetConf`].
//!
//! Top-level keys Berth does not know are allowed: the same document
//! carries the main plugin's fields (bridge, macvlan ...). The `ipam`
//! object is Berth's own, so an unknown key there is refused: it is a typo
//! or a setting meant for another IPAM, and silently ignoring it would
//! allocate differently from what the operator wrote.
//!
//! Syntax errors (not JSON, not an object) are decode failures; JSON of the
//! wrong shape is an invalid configuration, reported with the field name.

use crate::config_error::{take, ConfigError};
use crate::env::Verb;
use crate::inputs;
use crate::limits::{DEFAULT_TIMEOUT_MS, MAX_SOCKET_PATH_BYTES, MAX_STDIN_BYTES, MAX_TIMEOUT_MS};
use crate::version::CniVersion;
use berth_proto::Attachment;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::io::Read;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Stdin parsed as a JSON object but not yet validated, so the
/// `cniVersion` is known (errors echo it) before the rest is checked.
#[derive(Debug)]
pub struct Document {
    fields: Map<String, Value>,
}

/// The `ipam` section, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpamConfig {
    pub socket: PathBuf,
    pub pools: Vec<String>,
    pub timeout: Duration,
    /// `cleanGateway`: no default route via the pools' gateways.
    pub clean_gateway: Option<bool>,
}

/// Everything the plugin needs from stdin for one verb. Per-verb inputs
/// are only read for their verb: DEL, for one, must not fail over a
/// prevResult or requested address it has no use for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetConf {
    pub version: CniVersion,
    pub network: String,
    pub ipam: IpamConfig,
    /// ADD: `runtimeConfig.ips` then `args.cni.ips`, prefixes stripped.
    pub requested_ips: Vec<IpAddr>,
    /// ADD: `args.cni.labels`, the pod's labels for policies.
    pub labels: Vec<berth_proto::Label>,
    /// CHECK: `prevResult.ips[].address`, in CIDR form.
    pub prev_addresses: Vec<ipnet::IpNet>,
    /// GC: the attachments still in use.
    pub valid_attachments: Vec<Attachment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIpam {
    // The runtime found this binary through `type`; its value is not
    // checked so the binary may be installed under another name.
    #[serde(rename = "type")]
    _kind: Option<String>,
    socket: Option<String>,
    pools: Option<Vec<String>>,
    #[serde(rename = "timeoutMs")]
    timeout_ms: Option<u64>,
    #[serde(rename = "cleanGateway")]
    clean_gateway: Option<bool>,
}

impl Document {
    pub fn read(input: impl Read) -> Result<Self, ConfigError> {
        let mut bytes = Vec::new();
        input
            .take(MAX_STDIN_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(ConfigError::Stdin)?;
        if bytes.len() as u64 > MAX_STDIN_BYTES {
            return Err(ConfigError::TooLarge);
        }
        Self::parse(&bytes)
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, ConfigError> {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(fields)) => Ok(Document { fields }),
            Ok(_) => Err(ConfigError::Decode("expected a JSON object".into())),
            Err(e) => Err(ConfigError::Decode(e.to_string())),
        }
    }

    /// The `cniVersion` string as given, if it is a string.
    pub fn raw_version(&self) -> Option<&str> {
        self.fields.get("cniVersion").and_then(Value::as_str)
    }

    /// The `cniVersion`, checked to be one Berth speaks and to define `verb`.
    pub fn version_for(&self, verb: Verb) -> Result<CniVersion, ConfigError> {
        let raw = match self.fields.get("cniVersion") {
            None | Some(Value::Null) => return Err(ConfigError::NoVersion),
            Some(Value::String(raw)) => raw,
            Some(_) => return Err(ConfigError::invalid("cniVersion", "must be a string")),
        };
        let version =
            CniVersion::parse(raw).ok_or_else(|| ConfigError::Unsupported(raw.clone()))?;
        if !version.allows(verb) {
            let needs = if verb == Verb::Check {
                "0.4.0"
            } else {
                "1.1.0"
            };
            return Err(ConfigError::VerbTooNew {
                verb: verb.as_str(),
                needs,
                version: version.as_str(),
            });
        }
        Ok(version)
    }

    /// Validates what `verb` needs. `socket_fallback` is `BERTH_SOCKET`,
    /// used when `ipam.socket` is not set.
    pub fn into_netconf(
        mut self,
        verb: Verb,
        socket_fallback: Option<&str>,
    ) -> Result<NetConf, ConfigError> {
        let version = self.version_for(verb)?;
        let network = match take::<String>(&mut self.fields, "name")? {
            Some(name) => validate_network_name(name)?,
            None => return Err(ConfigError::invalid("name", "is missing")),
        };
        let ipam = take::<RawIpam>(&mut self.fields, "ipam")?
            .ok_or_else(|| ConfigError::invalid("ipam", "is missing"))?;
        let ipam = validate_ipam(ipam, socket_fallback)?;
        let mut conf = NetConf {
            version,
            network,
            ipam,
            requested_ips: Vec::new(),
            labels: Vec::new(),
            prev_addresses: Vec::new(),
            valid_attachments: Vec::new(),
        };
        let fields = &mut self.fields;
        match verb {
            Verb::Add => {
                let add = inputs::add_inputs(fields)?;
                conf.requested_ips = add.requested_ips;
                conf.labels = add.labels;
            }
            Verb::Check => conf.prev_addresses = inputs::prev_addresses(fields)?,
            Verb::Gc => conf.valid_attachments = inputs::valid_attachments(fields)?,
            Verb::Del | Verb::Status | Verb::Version => {}
        }
        Ok(conf)
    }
}

/// The spec's network name rule, which libcni also enforces: the daemon
/// keys allocations by it.
fn validate_network_name(name: String) -> Result<String, ConfigError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if first_ok && rest_ok {
        Ok(name)
    } else {
        Err(ConfigError::invalid(
            "name",
            format!("{name:?} must start with a letter or digit and contain only letters, digits, '_', '.' and '-'"),
        ))
    }
}

fn validate_ipam(raw: RawIpam, socket_fallback: Option<&str>) -> Result<IpamConfig, ConfigError> {
    let (socket, field) = match (&raw.socket, socket_fallback) {
        (Some(path), _) => (path.as_str(), "ipam.socket"),
        (None, Some(path)) => (path, "BERTH_SOCKET"),
        (None, None) => (berth_proto::DEFAULT_SOCKET_PATH, "ipam.socket"),
    };
    if !socket.starts_with('/') {
        return Err(ConfigError::invalid(
            field,
            format!("{socket:?} must be an absolute path"),
        ));
    }
    if socket.len() > MAX_SOCKET_PATH_BYTES {
        return Err(ConfigError::invalid(
            field,
            format!("is longer than the {MAX_SOCKET_PATH_BYTES} bytes a unix socket path may have"),
        ));
    }
    let pools = raw.pools.unwrap_or_default();
    if pools.iter().any(|p| p.trim().is_empty()) {
        return Err(ConfigError::invalid(
            "ipam.pools",
            "contains an empty pool name",
        ));
    }
    let timeout_ms = raw.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
    if !(1..=MAX_TIMEOUT_MS).contains(&timeout_ms) {
        return Err(ConfigError::invalid(
            "ipam.timeoutMs",
            format!("{timeout_ms} is not between 1 and {MAX_TIMEOUT_MS}"),
        ));
    }
    Ok(IpamConfig {
        socket: PathBuf::from(socket),
        pools,
        timeout: Duration::from_millis(timeout_ms),
        clean_gateway: raw.clean_gateway,
    })
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
