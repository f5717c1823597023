//! Native Rust mirror of `wit/policy.wit` (`berth:policy/types`).
//!
//! The WIT file is the source of truth; these types exist so policy logic
//! and the host can be written and unit-tested without any Wasm involved.
//! The guest export macro and the host runtime each convert between these
//! and their generated bindings in exactly one place.

use serde::{Deserialize, Serialize};

/// Version of the WIT package these types mirror.
pub const CONTRACT_VERSION: &str = "0.2.0";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IpFamily {
    V4,
    V6,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Owner {
    pub kind: String,
    pub name: String,
    pub uid: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatefulSet {
    pub name: String,
    pub ordinal: u32,
    pub replicas: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    pub name: String,
    pub subnet: String,
    pub family: IpFamily,
    pub total: u64,
    pub free: u64,
    pub namespace_used: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Candidate {
    pub pool: String,
    pub address: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Retention {
    ReleaseOnDelete,
    KeepForSecs(u64),
    KeepUntilRetired(u64),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub key: String,
    pub retention: Retention,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    pub pool: String,
    pub address: String,
    pub interface: String,
    pub family: IpFamily,
    pub attached: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub namespace: String,
    pub pod_name: String,
    pub pod_uid: String,
    pub container_id: String,
    pub labels: Vec<KeyValue>,
    pub annotations: Vec<KeyValue>,
    pub node: String,
    pub interface: String,
    pub family: IpFamily,
    pub owner: Option<Owner>,
    pub stateful_set: Option<StatefulSet>,
    pub pools: Vec<Pool>,
    pub identity: Option<Identity>,
    pub bindings: Vec<Binding>,
    pub candidates: Vec<Candidate>,
    pub free_total: u64,
    pub requested: Option<String>,
    pub seed: u64,
    pub now_unix_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    Abstain,
    RestrictPools(Vec<String>),
    Narrow(Vec<Candidate>),
    Reorder(Vec<Candidate>),
    Pick(Candidate),
    Reject(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub name: String,
    pub version: String,
    pub contract: String,
}

impl Request {
    /// The value of a pod label, if set.
    pub fn label(&self, key: &str) -> Option<&str> {
        find(&self.labels, key)
    }

    /// The value of a forwarded annotation, if set.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        find(&self.annotations, key)
    }
}

fn find<'a>(pairs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|kv| kv.key == key)
        .map(|kv| kv.value.as_str())
}
