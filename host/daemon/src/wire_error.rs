//! The one mapping from the core's typed errors to the socket protocol's
//! [`ErrorKind`], which the plugin turns into a CNI error code
//! (`cni/src/errors.rs`). It lives here, at the edge that speaks the
//! protocol, so the pure core names what went wrong and never how it is
//! said on the wire.

use berth_core::chain::ChainError;
use berth_core::error::AllocError;
use berth_core::store::StoreError;
use berth_proto::ErrorKind;

/// The protocol's kind of a failure the core reported.
pub(crate) trait WireKind {
    fn wire_kind(&self) -> ErrorKind;
}

impl WireKind for AllocError {
    fn wire_kind(&self) -> ErrorKind {
        match self {
            AllocError::UnknownPool { .. }
            | AllocError::NoDefaultPool
            | AllocError::NotAdmitted { .. }
            | AllocError::TooManyPools { .. }
            | AllocError::Orphaned { .. }
            | AllocError::Pool(_)
            | AllocError::UnreachableRouteGateway { .. }
            | AllocError::BadPoolPattern { .. }
            | AllocError::PoolFamily { .. }
            | AllocError::NoPoolMatches { .. } => ErrorKind::InvalidConfig,
            AllocError::InvalidRequest { .. } | AllocError::NotFound { .. } => {
                ErrorKind::InvalidRequest
            }
            AllocError::AddressUnavailable { .. } => ErrorKind::AddressUnavailable,
            // No address to give, as when exhausted; the message says why.
            AllocError::PoolExhausted { .. } | AllocError::PoolsDisabled { .. } => {
                ErrorKind::PoolExhausted
            }
            AllocError::Chain(ChainError::Rejected { .. }) => ErrorKind::PolicyRejected,
            AllocError::Chain(ChainError::Failed { .. }) => ErrorKind::PolicyFailed,
            AllocError::Internal { .. } => ErrorKind::Internal,
        }
    }
}

impl WireKind for StoreError {
    fn wire_kind(&self) -> ErrorKind {
        match self {
            // Another writer won a race: the plugin's retry will plan on
            // fresh records (the daemon already re-planned a few times).
            StoreError::Conflict { .. } => ErrorKind::TryAgainLater,
            StoreError::Locked { .. }
            | StoreError::Corrupt { .. }
            | StoreError::Decode { .. }
            | StoreError::Backend { .. } => ErrorKind::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_problems_are_invalid_config_and_races_try_again() {
        assert_eq!(
            AllocError::NoDefaultPool.wire_kind(),
            ErrorKind::InvalidConfig
        );
        let exhausted = AllocError::PoolsDisabled {
            family: berth_policy_sdk::IpFamily::V4,
            pools: vec!["p".into()],
        };
        assert_eq!(exhausted.wire_kind(), ErrorKind::PoolExhausted);
        let conflict = StoreError::Conflict {
            message: "lost".into(),
        };
        assert_eq!(conflict.wire_kind(), ErrorKind::TryAgainLater);
        let backend = StoreError::Backend {
            operation: "apply",
            message: "disk full".into(),
        };
        assert_eq!(backend.wire_kind(), ErrorKind::Internal);
    }
}
