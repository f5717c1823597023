//! A held address's record as the allocator keeps it in memory: one
//! compact byte string instead of a struct of a dozen `String`s.
//!
//! Why: at 100,000 allocations the record structs were most of berthd's
//! RSS (every `String` is a 24-byte header plus its own heap block, and
//! container ids and UIDs are 64 and 36 characters of hex). Packed, a
//! record is ~110 bytes in the table's slab; container ids and UIDs in
//! their canonical hex forms take their binary size. Reading one back costs
//! a decode (about a microsecond), which the allocator pays on the records a
//! request touches, not on every record.
//!
//! The encoding is private to one process (postcard over the types below),
//! never persisted: the store keeps its own format, so this one can change
//! freely between versions. `table.rs` keeps the bytes.

use crate::chain::TraceStep;
use crate::record::{AddressRecord, OwnerRef, RecordState};
use berth_policy_sdk::{Identity, StatefulSet};
use berth_proto::{Attachment, PodRef};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// A string that is most often hex: kept in binary when that gives back
/// exactly the same string, as text otherwise.
#[derive(Serialize, Deserialize)]
enum Text {
    /// 64 lowercase hex digits (a container runtime's id).
    Hex32([u8; 32]),
    /// A lowercase 8-4-4-4-12 UUID (a Kubernetes UID).
    Uuid([u8; 16]),
    Plain(String),
}

#[derive(Serialize, Deserialize)]
enum State {
    Attached,
    Retained { since: u64, expires: Option<u64> },
}

#[derive(Serialize, Deserialize)]
struct Owner {
    api_version: String,
    kind: String,
    name: String,
    uid: Text,
}

#[derive(Serialize, Deserialize)]
struct Packed {
    pool: String,
    network: String,
    /// Container id and interface name.
    attachment: Option<(Text, String)>,
    namespace: String,
    name: String,
    uid: Text,
    interface: String,
    identity: Option<Identity>,
    state: State,
    node: String,
    owner: Option<Owner>,
    stateful_set: Option<StatefulSet>,
    created_at_unix_secs: u64,
    trace: Vec<TraceStep>,
}

/// The record without its address (the allocator's key).
pub(super) fn pack(record: &AddressRecord) -> Vec<u8> {
    let packed = Packed {
        pool: record.pool.clone(),
        network: record.network.clone(),
        attachment: record
            .attachment
            .as_ref()
            .map(|a| (Text::of(&a.container_id), a.ifname.clone())),
        namespace: record.pod.namespace.clone(),
        name: record.pod.name.clone(),
        uid: Text::of(&record.pod.uid),
        interface: record.interface.clone(),
        identity: record.identity.clone(),
        state: match record.state {
            RecordState::Attached => State::Attached,
            RecordState::Retained {
                since_unix_secs,
                expires_at_unix_secs,
            } => State::Retained {
                since: since_unix_secs,
                expires: expires_at_unix_secs,
            },
        },
        node: record.node.clone(),
        owner: record.owner.as_ref().map(|o| Owner {
            api_version: o.api_version.clone(),
            kind: o.kind.clone(),
            name: o.name.clone(),
            uid: Text::of(&o.uid),
        }),
        stateful_set: record.stateful_set.clone(),
        created_at_unix_secs: record.created_at_unix_secs,
        trace: record.trace.clone(),
    };
    // Serialising these plain types into a Vec cannot fail; a failure is
    // a bug in this file, and dropping the record would lose an owner.
    postcard::to_allocvec(&packed).expect("a record always packs")
}

/// The record `pack` was given, exactly.
pub(super) fn unpack(address: IpAddr, bytes: &[u8]) -> AddressRecord {
    // Only `pack` of this process wrote these bytes.
    let p: Packed = postcard::from_bytes(bytes).expect("a packed record always unpacks");
    AddressRecord {
        pool: p.pool,
        address,
        network: p.network,
        attachment: p.attachment.map(|(id, ifname)| Attachment {
            container_id: id.into_string(),
            ifname,
        }),
        pod: PodRef {
            namespace: p.namespace,
            name: p.name,
            uid: p.uid.into_string(),
        },
        interface: p.interface,
        identity: p.identity,
        state: match p.state {
            State::Attached => RecordState::Attached,
            State::Retained { since, expires } => RecordState::Retained {
                since_unix_secs: since,
                expires_at_unix_secs: expires,
            },
        },
        node: p.node,
        owner: p.owner.map(|o| OwnerRef {
            api_version: o.api_version,
            kind: o.kind,
            name: o.name,
            uid: o.uid.into_string(),
        }),
        stateful_set: p.stateful_set,
        created_at_unix_secs: p.created_at_unix_secs,
        trace: p.trace,
    }
}

impl Text {
    fn of(s: &str) -> Text {
        if let Some(bytes) = lower_hex::<32>(s) {
            return Text::Hex32(bytes);
        }
        let b = s.as_bytes();
        if b.len() == 36 && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-') {
            let digits: String = s.chars().filter(|c| *c != '-').collect();
            if let Some(bytes) = lower_hex::<16>(&digits) {
                return Text::Uuid(bytes);
            }
        }
        Text::Plain(s.to_owned())
    }

    fn into_string(self) -> String {
        match self {
            Text::Hex32(b) => hex(&b),
            Text::Uuid(b) => {
                let h = hex(&b);
                format!(
                    "{}-{}-{}-{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..]
                )
            }
            Text::Plain(s) => s,
        }
    }
}

/// `s` as N bytes when it is exactly 2N lowercase hex digits (uppercase
/// would not come back the same).
fn lower_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b = s.as_bytes();
    if b.len() != 2 * N {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (i, pair) in b.chunks_exact(2).enumerate() {
        out[i] = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

#[cfg(test)]
#[path = "packed_tests.rs"]
mod tests;
