//! Every failure of the plugin, and the one place that gives each its CNI
//! error code.
//!
//! | code | meaning                        | raised by                                         |
//! |------|--------------------------------|---------------------------------------------------|
//! | 1    | incompatible CNI version       | unsupported cniVersion; CHECK < 0.4.0; GC/STATUS < 1.1.0 |
//! | 4    | invalid environment variables  | CNI_COMMAND/CNI_CONTAINERID/CNI_IFNAME/CNI_NETNS missing or invalid, malformed CNI_ARGS |
//! | 5    | I/O failure                    | stdin could not be read; berthd's socket refused the caller (not root) |
//! | 6    | failed to decode content       | stdin is not a JSON object, or larger than 1 MiB  |
//! | 7    | invalid network configuration  | bad or unknown `ipam` field, bad name/cniVersion/requested IPs/prevResult/GC list; berthd `invalid-config` and `invalid-request` |
//! | 11   | try again later                | berthd unreachable, timed out, hung up; berthd `try-again-later` |
//! | 50   | plugin not available (STATUS)  | STATUS: any failure reaching berthd or reported by it, except 7 and 106 |
//! | 100  | pool exhausted                 | berthd `pool-exhausted`                           |
//! | 101  | policy rejected                | berthd `policy-rejected`                          |
//! | 102  | policy failed                  | berthd `policy-failed`                            |
//! | 103  | address unavailable            | berthd `address-unavailable`                      |
//! | 104  | check failed                   | berthd `check-failed`                             |
//! | 105  | internal error                 | berthd `internal`; request over the frame limit   |
//! | 106  | protocol mismatch              | berthd's answer unreadable, of the wrong kind, or an invalid result |

use crate::client::ClientError;
use crate::config_error::ConfigError;
use crate::env::{EnvError, Verb};
use crate::result::ResultError;
use berth_proto::{ErrorBody, ErrorKind};
use serde::Serialize;

pub const INCOMPATIBLE_VERSION: u32 = 1;
pub const INVALID_ENV: u32 = 4;
pub const IO_FAILURE: u32 = 5;
pub const DECODE_FAILURE: u32 = 6;
pub const INVALID_CONFIG: u32 = 7;
pub const TRY_AGAIN_LATER: u32 = 11;
pub const NOT_AVAILABLE: u32 = 50;
pub const POOL_EXHAUSTED: u32 = 100;
pub const POLICY_REJECTED: u32 = 101;
pub const POLICY_FAILED: u32 = 102;
pub const ADDRESS_UNAVAILABLE: u32 = 103;
pub const CHECK_FAILED: u32 = 104;
pub const INTERNAL: u32 = 105;
pub const PROTOCOL_MISMATCH: u32 = 106;

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Env(#[from] EnvError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("{}: {}", daemon_kind_phrase(.0.kind), .0.message)]
    Daemon(ErrorBody),
    #[error(transparent)]
    Result(#[from] ResultError),
    #[error("berthd answered {verb} with {got}, which does not fit; are berth and berthd the same version?")]
    UnexpectedAnswer {
        verb: &'static str,
        got: &'static str,
    },
}

fn daemon_kind_phrase(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRequest => "berthd refused the request",
        ErrorKind::InvalidConfig => "berthd refused the network configuration",
        ErrorKind::TryAgainLater => "berthd is busy, try again later",
        ErrorKind::PoolExhausted => "no free address in the candidate pools",
        ErrorKind::PolicyRejected => "an allocation policy rejected the request",
        ErrorKind::PolicyFailed => "an allocation policy failed",
        ErrorKind::AddressUnavailable => "the requested address is not available",
        ErrorKind::CheckFailed => "the attachment's addresses differ from berthd's record",
        ErrorKind::Internal => "berthd failed internally",
    }
}

impl Failure {
    /// The CNI error code. `verb` is `None` when CNI_COMMAND itself could
    /// not be read. STATUS has its own meaning for "cannot serve": 50.
    pub fn code(&self, verb: Option<Verb>) -> u32 {
        let status = verb == Some(Verb::Status);
        match self {
            Failure::Env(_) => INVALID_ENV,
            Failure::Config(e) => match e {
                ConfigError::Stdin(_) => IO_FAILURE,
                ConfigError::TooLarge | ConfigError::Decode(_) => DECODE_FAILURE,
                ConfigError::Unsupported(_) | ConfigError::VerbTooNew { .. } => {
                    INCOMPATIBLE_VERSION
                }
                ConfigError::NoVersion | ConfigError::Invalid { .. } => INVALID_CONFIG,
            },
            Failure::Client(e) => match e {
                ClientError::Protocol { .. } => PROTOCOL_MISMATCH,
                ClientError::RequestTooLarge { .. } => INTERNAL,
                _ if status => NOT_AVAILABLE,
                // Not root: no retry will get through, so not "try again".
                ClientError::Unreachable { source, .. }
                    if source.kind() == std::io::ErrorKind::PermissionDenied =>
                {
                    IO_FAILURE
                }
                ClientError::Unreachable { .. }
                | ClientError::Timeout { .. }
                | ClientError::Closed { .. }
                | ClientError::Io { .. } => TRY_AGAIN_LATER,
            },
            Failure::Daemon(body) => match body.kind {
                ErrorKind::InvalidConfig | ErrorKind::InvalidRequest => INVALID_CONFIG,
                _ if status => NOT_AVAILABLE,
                ErrorKind::TryAgainLater => TRY_AGAIN_LATER,
                ErrorKind::PoolExhausted => POOL_EXHAUSTED,
                ErrorKind::PolicyRejected => POLICY_REJECTED,
                ErrorKind::PolicyFailed => POLICY_FAILED,
                ErrorKind::AddressUnavailable => ADDRESS_UNAVAILABLE,
                ErrorKind::CheckFailed => CHECK_FAILED,
                ErrorKind::Internal => INTERNAL,
            },
            Failure::Result(_) | Failure::UnexpectedAnswer { .. } => PROTOCOL_MISMATCH,
        }
    }

    /// Machine-readable context for `details`: the daemon's error kind, or
    /// the OS error behind a transport failure.
    fn details(&self) -> String {
        match self {
            Failure::Daemon(body) => serde_json::to_value(body.kind)
                .ok()
                .and_then(|v| v.as_str().map(|s| format!("berthd error kind: {s}")))
                .unwrap_or_default(),
            Failure::Client(
                ClientError::Unreachable { source, .. } | ClientError::Io { source, .. },
            ) => source.to_string(),
            _ => String::new(),
        }
    }
}

/// The error JSON the spec asks for on stdout.
#[derive(Debug, Serialize)]
pub struct CniErrorJson {
    #[serde(rename = "cniVersion")]
    pub cni_version: String,
    pub code: u32,
    pub msg: String,
    pub details: String,
}

impl CniErrorJson {
    pub fn new(failure: &Failure, verb: Option<Verb>, cni_version: &str) -> Self {
        CniErrorJson {
            cni_version: cni_version.into(),
            code: failure.code(verb),
            msg: failure.to_string(),
            details: failure.details(),
        }
    }

    pub fn to_json(&self) -> String {
        // Serialising strings and a number cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
#[path = "errors_tests.rs"]
mod tests;
