//! The CNI environment variables, read once into a typed [`CniEnv`].
//!
//! Which variables a verb needs (the spec's table, as libcni's skel
//! enforces it, minus `CNI_PATH`, which an IPAM plugin that executes
//! nothing has no use for):
//!
//! | verb            | needs                                        |
//! |-----------------|----------------------------------------------|
//! | ADD, CHECK      | CNI_CONTAINERID, CNI_IFNAME, CNI_NETNS       |
//! | DEL             | CNI_CONTAINERID, CNI_IFNAME (netns may be gone) |
//! | GC, STATUS      | nothing beyond CNI_COMMAND                    |
//! | VERSION         | nothing beyond CNI_COMMAND                    |
//!
//! `CNI_ARGS` is optional and read only for ADD, DEL and CHECK, the verbs
//! about one workload. An empty variable counts as missing, as in libcni.

use crate::cni_args::{self, ArgsError, CniArgs};
use berth_proto::Attachment;
use std::ffi::OsString;

/// A CNI verb, from `CNI_COMMAND`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Add,
    Del,
    Check,
    Gc,
    Status,
    Version,
}

impl Verb {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "ADD" => Verb::Add,
            "DEL" => Verb::Del,
            "CHECK" => Verb::Check,
            "GC" => Verb::Gc,
            "STATUS" => Verb::Status,
            "VERSION" => Verb::Version,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Add => "ADD",
            Verb::Del => "DEL",
            Verb::Check => "CHECK",
            Verb::Gc => "GC",
            Verb::Status => "STATUS",
            Verb::Version => "VERSION",
        }
    }

    /// Verbs about one attachment, which need its container id and ifname.
    fn names_attachment(self) -> bool {
        matches!(self, Verb::Add | Verb::Del | Verb::Check)
    }

    fn needs_netns(self) -> bool {
        matches!(self, Verb::Add | Verb::Check)
    }
}

/// Everything the environment says about this invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CniEnv {
    pub verb: Verb,
    /// Present exactly for ADD, DEL and CHECK.
    pub attachment: Option<Attachment>,
    pub args: CniArgs,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    #[error("CNI_COMMAND is not set; this is a CNI plugin: run it from a container runtime, or set CNI_COMMAND=VERSION to see what it speaks")]
    NoCommand,
    #[error(
        "CNI_COMMAND={0:?} is not a CNI verb (expected ADD, DEL, CHECK, GC, STATUS or VERSION)"
    )]
    UnknownCommand(String),
    #[error("{} not set; the runtime must set {} for {verb}", names(missing), if missing.len() == 1 { "it" } else { "them" })]
    Missing {
        missing: Vec<&'static str>,
        verb: &'static str,
    },
    #[error("{var} is not valid UTF-8")]
    NotUtf8 { var: &'static str },
    #[error("{var}={value:?} is invalid: {reason}")]
    Invalid {
        var: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error(transparent)]
    Args(#[from] ArgsError),
    #[error("CNI_ARGS IP entry {value:?}: {reason}")]
    RequestedIp { value: String, reason: String },
}

fn names(missing: &[&str]) -> String {
    match missing {
        [one] => format!("{one} is"),
        many => format!("{} are", many.join(", ")),
    }
}

/// Reads `CNI_COMMAND` alone, so VERSION can answer without anything else.
pub fn read_verb(lookup: &impl Fn(&str) -> Option<OsString>) -> Result<Verb, EnvError> {
    let command = read(lookup, "CNI_COMMAND")?.ok_or(EnvError::NoCommand)?;
    Verb::parse(&command).ok_or(EnvError::UnknownCommand(command))
}

/// Reads and validates the variables `verb` needs. `lookup` is
/// `std::env::var_os` in the binary and a map in tests.
pub fn read_env(
    verb: Verb,
    lookup: &impl Fn(&str) -> Option<OsString>,
) -> Result<CniEnv, EnvError> {
    if !verb.names_attachment() {
        return Ok(CniEnv {
            verb,
            attachment: None,
            args: CniArgs::default(),
        });
    }
    let container_id = read(lookup, "CNI_CONTAINERID")?;
    let ifname = read(lookup, "CNI_IFNAME")?;
    let netns = read(lookup, "CNI_NETNS")?;
    let mut missing = Vec::new();
    if container_id.is_none() {
        missing.push("CNI_CONTAINERID");
    }
    if ifname.is_none() {
        missing.push("CNI_IFNAME");
    }
    if verb.needs_netns() && netns.is_none() {
        missing.push("CNI_NETNS");
    }
    let (Some(container_id), Some(ifname), true) = (container_id, ifname, missing.is_empty())
    else {
        return Err(EnvError::Missing {
            missing,
            verb: verb.as_str(),
        });
    };
    validate_container_id(&container_id)?;
    validate_ifname(&ifname)?;
    let args = match read(lookup, "CNI_ARGS")? {
        Some(raw) => cni_args::parse(&raw)?,
        None => CniArgs::default(),
    };
    Ok(CniEnv {
        verb,
        attachment: Some(Attachment {
            container_id,
            ifname,
        }),
        args,
    })
}

/// A variable's value; unset and empty are both `None`.
fn read(
    lookup: &impl Fn(&str) -> Option<OsString>,
    var: &'static str,
) -> Result<Option<String>, EnvError> {
    match lookup(var) {
        None => Ok(None),
        Some(value) if value.is_empty() => Ok(None),
        Some(value) => value
            .into_string()
            .map(Some)
            .map_err(|_| EnvError::NotUtf8 { var }),
    }
}

/// The spec's container id rule: an alphanumeric first character, then
/// alphanumerics, `_`, `.` or `-`. The daemon keys allocations by it, so
/// anything else is refused here rather than stored.
fn validate_container_id(id: &str) -> Result<(), EnvError> {
    let mut chars = id.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(EnvError::Invalid {
            var: "CNI_CONTAINERID",
            value: id.into(),
            reason: "must start with a letter or digit and contain only letters, digits, '_', '.' and '-'",
        })
    }
}

/// The kernel's interface name rule (what libcni checks): at most 15 bytes,
/// not `.` or `..`, no `/`, `:` or whitespace.
fn validate_ifname(name: &str) -> Result<(), EnvError> {
    let reason = if name.len() > 15 {
        Some("longer than 15 bytes")
    } else if name == "." || name == ".." {
        Some("'.' and '..' are not interface names")
    } else if name
        .chars()
        .any(|c| c == '/' || c == ':' || c.is_whitespace())
    {
        Some("contains '/', ':' or whitespace")
    } else {
        None
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(EnvError::Invalid {
            var: "CNI_IFNAME",
            value: name.into(),
            reason,
        }),
    }
}

#[cfg(test)]
#[path = "env_tests.rs"]
mod tests;
