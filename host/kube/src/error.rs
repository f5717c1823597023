//! Errors of the cluster-facing helpers (pool listing, status writing).
//! The store itself answers with `berth_core::store::StoreError`.

use crate::convert::ConvertError;

#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    /// A request failed (after retries, for transient failures).
    #[error("{operation} {object}: {message}")]
    Request {
        operation: &'static str,
        /// "berthpools/test-ippool", "berthaddresses".
        object: String,
        message: String,
    },
    #[error(transparent)]
    Convert(#[from] ConvertError),
}
