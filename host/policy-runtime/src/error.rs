//! Typed errors: what can refuse a chain at load, and how a failed guest
//! call maps onto the chain's `PolicyError` kinds.

use crate::budget::Exhausted;
use berth_core::chain::{PolicyError, PolicyErrorKind};
use std::path::PathBuf;

/// The runtime itself could not be set up (engine or linker).
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("invalid runtime limits: {0}")]
    Limits(String),
    #[error("cannot configure the Wasm engine: {0}")]
    Engine(String),
    #[error("cannot start the epoch ticker thread: {0}")]
    Ticker(#[source] std::io::Error),
}

/// Why a chain was refused at load. Every variant names the policy, so an
/// operator can fix the right entry of the list.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("the chain has {count} policies, more than the maximum of {max}")]
    TooManyPolicies { count: usize, max: usize },
    #[error("policy name {policy:?} is invalid: {reason}")]
    InvalidName { policy: String, reason: String },
    #[error("policy {policy}: the name appears twice in the chain")]
    DuplicateName { policy: String },
    #[error("policy {policy}: unknown builtin policy {builtin:?} (known: {known})")]
    UnknownBuiltin {
        policy: String,
        builtin: String,
        known: String,
    },
    #[error("policy {policy}: cannot read module {}: {source}", path.display())]
    Read {
        policy: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("policy {policy}: module is {size} bytes, more than the maximum of {max}")]
    ModuleTooLarge {
        policy: String,
        size: u64,
        max: usize,
    },
    #[error("policy {policy}: module file {} has no sha256 pin; add \"sha256\": \"<digest>\" (sha256sum of the file) to its entry", path.display())]
    MissingDigest { policy: String, path: PathBuf },
    #[error("policy {policy}: sha256 {digest:?} is not 64 hex digits")]
    BadDigest { policy: String, digest: String },
    #[error("policy {policy}: sha256 mismatch: expected {expected}, module has {actual}")]
    DigestMismatch {
        policy: String,
        expected: String,
        actual: String,
    },
    #[error("policy {policy}: not a valid WebAssembly component: {message}")]
    Compile { policy: String, message: String },
    #[error("policy {policy}: imports {import:?}, which policies may not use (allowed, all 0.2.x and backed by nothing: wasi:io, wasi:clocks (frozen), wasi:random (seeded), wasi:cli stdio/environment/exit/terminal, wasi:filesystem types/preopens (no directories), wasi:sockets (every socket refused), wasi:http types/outgoing-handler (calls trap); and berth:policy host/types/query@0.2.x or host/types@0.1.x)")]
    ForbiddenImport { policy: String, import: String },
    #[error("policy {policy}: needs {need} {what}, more than the cap of {cap} (raise {setting} in berthd.json)")]
    BeyondLimits {
        policy: String,
        what: &'static str,
        need: u64,
        cap: u64,
        setting: &'static str,
    },
    #[error("policy {policy}: cannot link the component: {message}")]
    Link { policy: String, message: String },
    #[error("policy {policy}: {call} failed at load: {error}")]
    Call {
        policy: String,
        call: &'static str,
        error: PolicyError,
    },
    #[error("policy {policy}: built against contract {contract:?}, this host speaks {expected}")]
    IncompatibleContract {
        policy: String,
        contract: String,
        expected: String,
    },
    #[error("policy {policy}: settings are {size} bytes of JSON, more than the maximum of {max}")]
    SettingsTooLarge {
        policy: String,
        size: usize,
        max: usize,
    },
    #[error("policy {policy}: invalid settings: {message}")]
    InvalidSettings { policy: String, message: String },
}

impl LoadError {
    /// The policy entry the error is about, if it is about one.
    pub fn policy(&self) -> Option<&str> {
        match self {
            Self::TooManyPolicies { .. } => None,
            Self::InvalidName { policy, .. }
            | Self::DuplicateName { policy }
            | Self::UnknownBuiltin { policy, .. }
            | Self::Read { policy, .. }
            | Self::ModuleTooLarge { policy, .. }
            | Self::MissingDigest { policy, .. }
            | Self::BadDigest { policy, .. }
            | Self::DigestMismatch { policy, .. }
            | Self::Compile { policy, .. }
            | Self::ForbiddenImport { policy, .. }
            | Self::BeyondLimits { policy, .. }
            | Self::Link { policy, .. }
            | Self::Call { policy, .. }
            | Self::IncompatibleContract { policy, .. }
            | Self::SettingsTooLarge { policy, .. }
            | Self::InvalidSettings { policy, .. } => Some(policy),
        }
    }
}

/// What went wrong inside a guest call, as the store saw it.
pub(crate) struct CallFailure<'a> {
    pub error: wasmtime::Error,
    /// The memory limiter refused a growth during this instance's life.
    pub memory_refused: bool,
    /// The budget limit that interrupted the call, if one did.
    pub exhausted: Option<Exhausted>,
    pub what: &'a str,
}

/// Maps a failed call onto a chain error kind. A refused memory growth
/// wins over the trap it provokes (Rust guests abort on allocation failure),
/// so a memory bomb reports `OutOfMemory`, not a generic trap.
pub(crate) fn classify(failure: CallFailure<'_>) -> PolicyError {
    let CallFailure {
        error,
        memory_refused,
        exhausted,
        what,
    } = failure;
    if memory_refused {
        return PolicyError::new(
            PolicyErrorKind::OutOfMemory,
            format!(
                "{what}: memory growth past the cap was refused, then the guest failed: {error}"
            ),
        );
    }
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => {
            let why = exhausted.map_or_else(|| "was interrupted".to_owned(), |e| e.to_string());
            PolicyError::new(PolicyErrorKind::Timeout, format!("{what}: {why}"))
        }
        Some(wasmtime::Trap::OutOfFuel) => {
            PolicyError::new(PolicyErrorKind::Timeout, format!("{what}: ran out of fuel"))
        }
        Some(trap) => PolicyError::new(PolicyErrorKind::Trap, format!("{what}: {trap}")),
        // Not a wasm trap: the guest's answer could not be lifted (bad
        // UTF-8, out-of-bounds pointer) or a WASI call refused it.
        None => PolicyError::new(PolicyErrorKind::Trap, format!("{what}: {error:#}")),
    }
}

/// The host could not even start the guest (instance pool exhausted, ...).
pub(crate) fn internal(what: &str, error: &wasmtime::Error) -> PolicyError {
    PolicyError::new(PolicyErrorKind::Internal, format!("{what}: {error:#}"))
}
