//! The operator side of the socket: one admin request per connection and
//! the paged list of every allocation, shared by `berthd`'s CLI and
//! `berth-policy run --against`.

use crate::admin::{AdminRequest, AdminResponse, AllocationView};
use crate::limits::{ADMIN_TIMEOUT_SECS, ALLOCATION_PAGES_MAX};
use crate::{read_frame, write_frame, FrameError, Request, Response};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("berthd is not reachable at {}; is it running? ({source})", socket.display())]
    Unreachable {
        socket: PathBuf,
        source: std::io::Error,
    },
    #[error("socket io: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The daemon answered with an error; its message says why.
    #[error("berthd refused: {0}")]
    Refused(String),
    #[error("berthd answered something unexpected: {0}")]
    Unexpected(String),
    #[error("more than {ALLOCATION_PAGES_MAX} pages of allocations; is berthd paging correctly?")]
    TooManyPages,
}

/// Sends one admin request and returns the daemon's answer.
pub fn admin(socket: &Path, request: AdminRequest) -> Result<AdminResponse, ClientError> {
    let mut stream = UnixStream::connect(socket).map_err(|source| ClientError::Unreachable {
        socket: socket.to_owned(),
        source,
    })?;
    let timeout = Some(Duration::from_secs(ADMIN_TIMEOUT_SECS));
    stream.set_read_timeout(timeout)?;
    stream.set_write_timeout(timeout)?;
    write_frame(&mut stream, &Request::Admin(request))?;
    match read_frame::<Response>(&mut stream)? {
        Response::Admin(answer) => Ok(answer),
        Response::Error(error) => Err(ClientError::Refused(error.message)),
        other => Err(ClientError::Unexpected(format!("{other:?}"))),
    }
}

/// Every allocation, asked page by page (each answer stays under the
/// frame limit however many records there are).
pub fn all_allocations(socket: &Path) -> Result<Vec<AllocationView>, ClientError> {
    let mut all = Vec::new();
    let mut after = None;
    for _ in 0..ALLOCATION_PAGES_MAX {
        match admin(socket, AdminRequest::ListAllocations { after })? {
            AdminResponse::Allocations { allocations, next } => {
                all.extend(allocations);
                match next {
                    Some(next) => after = Some(next),
                    None => return Ok(all),
                }
            }
            other => return Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }
    Err(ClientError::TooManyPages)
}
