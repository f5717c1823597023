//! The wire protocol between the `berth` CNI plugin and the `berthd` daemon.
//!
//! One request and one response per connection, each framed as a 4-byte
//! big-endian length followed by that many bytes of JSON. Both sides refuse
//! a frame longer than [`MAX_FRAME_BYTES`] before reading it, so a hostile
//! peer cannot make either side allocate without bound.
//!
//! This crate is deliberately free of async and of any IO beyond
//! `std::io::{Read, Write}` and std's unix sockets (the operator client),
//! so the CNI binary stays small and quick to start.

pub mod admin;
pub mod client;
pub mod limits;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::net::IpAddr;

/// Largest frame either side accepts, in bytes.
pub const MAX_FRAME_BYTES: u32 = 64 * 1024;

/// Default path of the daemon's socket.
pub const DEFAULT_SOCKET_PATH: &str = "/run/berth/berth.sock";

/// The workload a request is for, from `CNI_ARGS` (Kubernetes runtimes set
/// these; plain runtimes may leave them empty).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PodRef {
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

/// One attachment: a container's interface, the unit an address is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Attachment {
    pub container_id: String,
    pub ifname: String,
}

/// A pod label, as the CNI conventions' `args.cni.labels` carry them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Label {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddRequest {
    pub attachment: Attachment,
    /// The CNI network name (`name` of the network config).
    pub network: String,
    pub pod: PodRef,
    /// Pools named by the CNI config's `ipam.pools`; empty means "let the
    /// daemon choose" (annotations, then pools marked default).
    pub pools: Vec<String>,
    /// Specific addresses asked for through `args.cni.ips` or
    /// `runtimeConfig.ips` (plain addresses: the prefix is the pool's).
    pub requested_ips: Vec<IpAddr>,
    /// The CNI config's `ipam.cleanGateway`: no default route via the
    /// pools' gateways (`None`: the pool decides; pod annotations win).
    #[serde(default)]
    pub clean_gateway: Option<bool>,
    /// The CNI config's `args.cni.labels`: the pod's labels where no
    /// cluster tells the daemon (single-host mode), passed to policies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelRequest {
    pub attachment: Attachment,
    pub network: String,
    pub pod: PodRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRequest {
    pub attachment: Attachment,
    pub network: String,
    /// Addresses (CIDR form) the runtime believes the attachment has.
    pub expected: Vec<IpNet>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcRequest {
    pub network: String,
    /// Every attachment that is still valid; all others of this network
    /// are released.
    pub valid: Vec<Attachment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verb", rename_all = "UPPERCASE")]
pub enum Request {
    Add(AddRequest),
    Del(DelRequest),
    Check(CheckRequest),
    Gc(GcRequest),
    Status,
    Admin(admin::AdminRequest),
}

/// One address handed to an attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpConfig {
    /// The address with its pool's prefix length, "10.6.168.101/16".
    pub address: IpNet,
    pub gateway: Option<IpAddr>,
    /// The pool it came from.
    pub pool: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub dst: IpNet,
    pub gw: Option<IpAddr>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AddResult {
    pub ips: Vec<IpConfig>,
    pub routes: Vec<Route>,
    /// The pools' DNS settings (all empty: none).
    #[serde(default)]
    pub dns: Dns,
}

/// The CNI result's `dns` object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Dns {
    #[serde(default)]
    pub nameservers: Vec<IpAddr>,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub search: Vec<String>,
    #[serde(default)]
    pub options: Vec<String>,
}

/// Why a request failed. The CNI plugin maps each kind to a CNI error code
/// in one place (`berth-cni`'s `errors` module).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The request itself is malformed.
    InvalidRequest,
    /// The network config names something that cannot work (unknown pool).
    InvalidConfig,
    /// Transient: the daemon is busy, starting, or lost a race; retry.
    TryAgainLater,
    /// No free address in the candidate pools.
    PoolExhausted,
    /// A policy refused the request (its reason is in the message).
    PolicyRejected,
    /// A policy failed with `failurePolicy: Fail`.
    PolicyFailed,
    /// A requested address is not free or not in a candidate pool.
    AddressUnavailable,
    /// CHECK found the attachment's addresses differ from the daemon's.
    CheckFailed,
    /// An internal error (store failure); the message says what.
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Response {
    Added(AddResult),
    Ok,
    Admin(admin::AdminResponse),
    Error(ErrorBody),
}

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("socket io: {0}")]
    Io(#[from] std::io::Error),
    #[error("frame of {len_bytes} bytes exceeds the limit of {MAX_FRAME_BYTES} bytes")]
    TooLarge { len_bytes: u64 },
    #[error("frame is not valid JSON for this message: {0}")]
    Decode(#[from] serde_json::Error),
}

/// Writes one length-prefixed JSON frame.
pub fn write_frame<T: Serialize>(out: &mut impl Write, message: &T) -> Result<(), FrameError> {
    let body = serde_json::to_vec(message)?;
    let len_bytes = u32::try_from(body.len())
        .ok()
        .filter(|len| *len <= MAX_FRAME_BYTES)
        .ok_or(FrameError::TooLarge {
            len_bytes: body.len() as u64,
        })?;
    out.write_all(&len_bytes.to_be_bytes())?;
    out.write_all(&body)?;
    out.flush()?;
    Ok(())
}

/// Reads one length-prefixed JSON frame, refusing oversized ones unread.
pub fn read_frame<T: for<'de> Deserialize<'de>>(input: &mut impl Read) -> Result<T, FrameError> {
    let mut len_buf = [0u8; 4];
    input.read_exact(&mut len_buf)?;
    let len_bytes = u32::from_be_bytes(len_buf);
    if len_bytes > MAX_FRAME_BYTES {
        return Err(FrameError::TooLarge {
            len_bytes: u64::from(len_bytes),
        });
    }
    let mut body = vec![0u8; len_bytes as usize];
    input.read_exact(&mut body)?;
    Ok(serde_json::from_slice(&body)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_round_trip() {
        let request = Request::Gc(GcRequest {
            network: "net".into(),
            valid: vec![Attachment {
                container_id: "c1".into(),
                ifname: "eth0".into(),
            }],
        });
        let mut buf = Vec::new();
        write_frame(&mut buf, &request).expect("write");
        let back: Request = read_frame(&mut buf.as_slice()).expect("read");
        assert_eq!(back, request);
    }

    #[test]
    fn oversized_frame_is_refused_before_reading_body() {
        let mut buf = (MAX_FRAME_BYTES + 1).to_be_bytes().to_vec();
        buf.extend_from_slice(b"{}");
        let err = read_frame::<Request>(&mut buf.as_slice()).expect_err("must refuse");
        assert!(matches!(err, FrameError::TooLarge { .. }));
    }

    #[test]
    fn truncated_frame_is_an_error() {
        let buf = 10u32.to_be_bytes().to_vec();
        assert!(read_frame::<Request>(&mut buf.as_slice()).is_err());
    }
}
