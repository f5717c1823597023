//! The vocabulary of pool annotations: their keys, what they select
//! ([`Selection`]), why one is refused ([`AnnotationError`]) and the
//! parsing both Berth's (`annotations.rs`) and Spiderpool's
//! (`spiderpool.rs`) readers share.

use berth_core::limits::POOL_NAME_BYTES_MAX;
use berth_core::pool_names::PoolRef;
use berth_policy_sdk::IpFamily;
use serde::Deserialize;
use std::collections::BTreeMap;

pub const BERTH_POOLS: &str = "berth.io/ippools";
pub const BERTH_POOL: &str = "berth.io/ippool";
pub const SPIDER_POOLS: &str = "ipam.spidernet.io/ippools";
pub const SPIDER_POOL: &str = "ipam.spidernet.io/ippool";
pub const NS_BERTH_DEFAULT: &str = "berth.io/default-ippool";
pub const NS_SPIDER_V4: &str = "ipam.spidernet.io/default-ipv4-ippool";
pub const NS_SPIDER_V6: &str = "ipam.spidernet.io/default-ipv6-ippool";

/// Annotation prefixes forwarded to policies (everything else stays out
/// of the request: annotations can be large and are nobody's business).
pub const FORWARDED_PREFIXES: [&str; 2] = ["berth.io/", "ipam.spidernet.io/"];

/// The interface Berth's single-pool annotation applies to.
pub const PRIMARY_INTERFACE: &str = "eth0";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("annotation {key}: {problem}")]
pub struct AnnotationError {
    pub key: String,
    pub problem: String,
}

/// What the annotations choose for one interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Pools (names or patterns), highest priority first; empty when
    /// nothing names any.
    pub pools: Vec<PoolRef>,
    /// The `cleanGateway` of the `ippools` entry that named the pools.
    pub clean_gateway: Option<bool>,
}

impl Selection {
    pub(crate) fn of(pools: Vec<PoolRef>) -> Self {
        Self {
            pools,
            clean_gateway: None,
        }
    }
}

pub(crate) type Annotations = BTreeMap<String, String>;

pub fn parse_json<T: for<'de> Deserialize<'de>>(
    key: &str,
    value: &str,
) -> Result<T, AnnotationError> {
    serde_json::from_str(value).map_err(|e| AnnotationError {
        key: key.to_owned(),
        problem: format!("not valid: {e}"),
    })
}

pub(crate) fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(crate) fn any_family(names: Vec<String>) -> Vec<PoolRef> {
    names.into_iter().map(PoolRef::any).collect()
}

pub(crate) fn of_family(family: IpFamily, names: Vec<String>) -> Vec<PoolRef> {
    names
        .into_iter()
        .map(|name| PoolRef::of(family, name))
        .collect()
}

/// Refuses an empty list and anything that cannot be a pool name or a
/// pattern of one.
pub(crate) fn checked(key: &str, pools: Vec<PoolRef>) -> Result<Vec<PoolRef>, AnnotationError> {
    if pools.is_empty() {
        return Err(AnnotationError {
            key: key.to_owned(),
            problem: "names no pool".into(),
        });
    }
    if let Some(bad) = pools
        .iter()
        .map(|p| &p.name)
        .find(|p| p.is_empty() || p.len() > POOL_NAME_BYTES_MAX || p.contains('/'))
    {
        return Err(AnnotationError {
            key: key.to_owned(),
            problem: format!("{bad:?} is not a pool name"),
        });
    }
    Ok(pools)
}
