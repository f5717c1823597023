//! Talking to `berthd` over its socket directly, as a hostile or hurried
//! client would: many requests at once, idle connections, own timeouts.

use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

pub use berth_proto::{AddRequest, Attachment, PodRef, Request, Response};

/// An ADD for `container` of a stateless pod named after it.
pub fn add_request(container: &str, pools: &[&str]) -> Request {
    Request::Add(AddRequest {
        pools: pools.iter().map(|p| (*p).to_owned()).collect(),
        ..pod_add(container, &format!("pod-{container}"))
    })
}

/// An ADD for `container` (on `eth0`, network `raw`) of the stateless pod
/// `default/pod`, from the default pools.
pub fn pod_add(container: &str, pod: &str) -> AddRequest {
    AddRequest {
        attachment: Attachment {
            container_id: container.into(),
            ifname: "eth0".into(),
        },
        network: "raw".into(),
        pod: PodRef {
            namespace: "default".into(),
            name: pod.into(),
            uid: format!("uid-{container}"),
        },
        pools: Vec::new(),
        requested_ips: vec![],
        clean_gateway: None,
        labels: Vec::new(),
    }
}

/// One exchange; `Err` when no answer came within `timeout` (what the
/// plugin reports to the runtime as a failure).
pub fn ask(socket: &Path, request: &Request, timeout: Duration) -> Result<Response, String> {
    let mut stream = UnixStream::connect(socket).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    berth_proto::write_frame(&mut stream, request).map_err(|e| e.to_string())?;
    berth_proto::read_frame(&mut stream).map_err(|e| e.to_string())
}
