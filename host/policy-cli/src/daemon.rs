//! Asking a running berthd over its unix socket (the operator protocol
//! `berthd explain` speaks), for `berth-policy run --against`.

use anyhow::{bail, Context, Result};
use berth_proto::admin::{AdminRequest, AdminResponse, AllocationView};
use berth_proto::{Request, Response};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

const TIMEOUT_SECS: u64 = 30;
/// Bound on the paging loop: ~100 records a page, so ten million records.
const PAGES_MAX: usize = 100_000;

/// The daemon's answer, or the error it answered with.
fn ask(socket: &Path, request: AdminRequest) -> Result<Result<AdminResponse, String>> {
    let mut stream = UnixStream::connect(socket).with_context(|| {
        format!(
            "berthd is not reachable at {}; is it running?",
            socket.display()
        )
    })?;
    let timeout = Some(Duration::from_secs(TIMEOUT_SECS));
    stream.set_read_timeout(timeout)?;
    stream.set_write_timeout(timeout)?;
    berth_proto::write_frame(&mut stream, &Request::Admin(request))?;
    match berth_proto::read_frame::<Response>(&mut stream)? {
        Response::Admin(answer) => Ok(Ok(answer)),
        Response::Error(error) => Ok(Err(error.message)),
        other => bail!("berthd answered something unexpected: {other:?}"),
    }
}

/// Every allocation, page by page.
pub fn allocations(socket: &Path) -> Result<Vec<AllocationView>> {
    let mut all = Vec::new();
    let mut after = None;
    for _ in 0..PAGES_MAX {
        match ask(socket, AdminRequest::ListAllocations { after })? {
            Ok(AdminResponse::Allocations { allocations, next }) => {
                all.extend(allocations);
                match next {
                    Some(next) => after = Some(next),
                    None => return Ok(all),
                }
            }
            Ok(other) => bail!("berthd answered something unexpected: {other:?}"),
            Err(message) => bail!("berthd refused to list allocations: {message}"),
        }
    }
    bail!("more than {PAGES_MAX} pages of allocations; is berthd paging correctly?")
}

/// The fixture of the request behind `address`, or why berthd has none.
pub fn fixture(socket: &Path, address: &str) -> Result<Result<serde_json::Value, String>> {
    let request = AdminRequest::ExplainRequest {
        address: address.to_owned(),
    };
    Ok(match ask(socket, request)? {
        Ok(AdminResponse::Request { fixture }) => Ok(fixture),
        Ok(other) => bail!("berthd answered something unexpected: {other:?}"),
        Err(message) => Err(message),
    })
}
