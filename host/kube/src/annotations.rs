//! Which pools a pod's interface may use, from annotations.
//!
//! Precedence (first that names pools wins): the pod's annotations, the
//! namespace's annotations, the CNI network config's `ipam.pools`; when none
//! names any, the allocator falls back to pools marked default.
//!
//! Berth's own annotations, and Spiderpool's (`spiderpool.rs` says what of
//! Spiderpool is honoured and what is refused):
//!
//! | where | key | value |
//! |---|---|---|
//! | pod | `berth.io/ippools` | `[{"interface":"net1","pools":["a","b"],"cleanGateway":true}]`; an interface without an entry falls through |
//! | pod | `berth.io/ippool` | `a` or `a,b` (the primary interface, eth0) |
//! | pod | `ipam.spidernet.io/ippools` | `[{"interface":"eth0","ipv4":["a"],"ipv6":["b"],"cleangateway":true}]`, or entries without `interface` matched by order (eth0, net1, net2, …) |
//! | pod | `ipam.spidernet.io/ippool` | `{"ipv4":["a"],"ipv6":["b"]}` (the interface being configured) |
//! | namespace | `berth.io/default-ippool` | `a` or `a,b` |
//! | namespace | `ipam.spidernet.io/default-ipv4-ippool` / `-ipv6-` | `["a"]` |
//!
//! Pool names may be patterns (`*`, `?`, `[…]`), resolved against the pools
//! in force by `berth_core::pool_names`; names listed under `ipv4`/`ipv6`
//! must be pools of that family.
//!
//! The entry of an `ippools` annotation that names the interface's pools
//! may also say `cleanGateway` (Berth) / `cleangateway` (Spiderpool);
//! `network_annotations.rs` reads the pod-wide settings.
//!
//! A malformed annotation is an error naming it, never silently ignored:
//! ignoring it would put the pod in a pool its owner did not choose.

use crate::annotation_values::{
    any_family, checked, of_family, parse_json, split_list, Annotations,
};
pub use crate::annotation_values::{
    AnnotationError, Selection, BERTH_POOL, BERTH_POOLS, FORWARDED_PREFIXES, NS_BERTH_DEFAULT,
    NS_SPIDER_V4, NS_SPIDER_V6, PRIMARY_INTERFACE, SPIDER_POOL, SPIDER_POOLS,
};
use crate::spiderpool;
use berth_policy_sdk::IpFamily;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BerthEntry {
    interface: String,
    pools: Vec<String>,
    #[serde(default, rename = "cleanGateway")]
    clean_gateway: Option<bool>,
}

/// What the annotations choose for `interface`: its pools (empty when
/// nothing names any) and the choosing entry's `cleanGateway`.
pub fn pools_for(
    pod: &Annotations,
    namespace: &Annotations,
    interface: &str,
    from_cni_config: &[String],
) -> Result<Selection, AnnotationError> {
    spiderpool::refuse_unsupported(pod)?;
    if let Some(value) = pod.get(BERTH_POOLS) {
        let entries: Vec<BerthEntry> = parse_json(BERTH_POOLS, value)?;
        if let Some(e) = entries.into_iter().find(|e| e.interface == interface) {
            return Ok(Selection {
                pools: checked(BERTH_POOLS, any_family(e.pools))?,
                clean_gateway: e.clean_gateway,
            });
        }
    }
    if let (true, Some(value)) = (interface == PRIMARY_INTERFACE, pod.get(BERTH_POOL)) {
        return checked(BERTH_POOL, any_family(split_list(value))).map(Selection::of);
    }
    if let Some(selection) = spiderpool::pod_pools(pod, interface)? {
        return Ok(selection);
    }
    if let Some(value) = namespace.get(NS_BERTH_DEFAULT) {
        return checked(NS_BERTH_DEFAULT, any_family(split_list(value))).map(Selection::of);
    }
    let mut spider_ns = Vec::new();
    for (key, family) in [(NS_SPIDER_V4, IpFamily::V4), (NS_SPIDER_V6, IpFamily::V6)] {
        if let Some(value) = namespace.get(key) {
            let names: Vec<String> = parse_json(key, value)?;
            spider_ns.extend(checked(key, of_family(family, names))?);
        }
    }
    if !spider_ns.is_empty() {
        return Ok(Selection::of(spider_ns));
    }
    Ok(Selection::of(any_family(from_cni_config.to_vec())))
}

/// Annotations a policy may see: only the forwarded prefixes.
pub fn forwarded(all: &Annotations) -> impl Iterator<Item = (&String, &String)> {
    all.iter()
        .filter(|(k, _)| FORWARDED_PREFIXES.iter().any(|p| k.starts_with(p)))
}

#[cfg(test)]
#[path = "annotations_tests.rs"]
mod tests;
