//! Why a network configuration is refused, and the one helper that turns a
//! field of the wrong shape into that refusal (kept apart from
//! [`crate::config`] so the field readers it calls, [`crate::inputs`],
//! do not depend back on it).

use crate::limits::MAX_STDIN_BYTES;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read the network configuration from stdin: {0}")]
    Stdin(#[source] std::io::Error),
    #[error("the network configuration on stdin is larger than {MAX_STDIN_BYTES} bytes")]
    TooLarge,
    #[error("the network configuration on stdin is not valid JSON: {0}")]
    Decode(String),
    #[error("the network configuration has no cniVersion")]
    NoVersion,
    #[error(
        "cniVersion {0:?} is not supported (berth speaks 0.3.0, 0.3.1, 0.4.0, 1.0.0 and 1.1.0)"
    )]
    Unsupported(String),
    #[error("{verb} needs cniVersion {needs} or later, the configuration says {version}")]
    VerbTooNew {
        verb: &'static str,
        needs: &'static str,
        version: &'static str,
    },
    #[error("network configuration field {field}: {reason}")]
    Invalid { field: String, reason: String },
}

impl ConfigError {
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        ConfigError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Removes `key` and decodes it; absent and `null` are both `None`.
pub(crate) fn take<T: DeserializeOwned>(
    fields: &mut Map<String, Value>,
    key: &str,
) -> Result<Option<T>, ConfigError> {
    match fields.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value)
            .map(Some)
            .map_err(|e| ConfigError::invalid(key, e.to_string())),
    }
}
