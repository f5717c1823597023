//! Spiderpool's pod annotations, honestly: what Berth accepts it honours
//! as Spiderpool documents it, and what it does not support it refuses
//! with the reason and what to use instead (CNI code 7), never ignores.
//!
//! | key | Berth |
//! |---|---|
//! | `ipam.spidernet.io/ippools` | honoured (below); decides alone when present, as in Spiderpool |
//! | `ipam.spidernet.io/ippool` | honoured, for the interface being configured |
//! | `ipam.spidernet.io/routes` | honoured (`network_annotations.rs`) |
//! | `ipam.spidernet.io/subnet`, `…/subnets` | refused: Berth has no SpiderSubnet |
//! | `ipam.spidernet.io/ippool-ip-number`, `…/ippool-reclaim` | refused: they size and reclaim SpiderSubnet's automatic pools |
//! | namespace `…/default-ipv4-ippool`, `…/default-ipv6-ippool` | honoured (`annotations.rs`) |
//!
//! Keys of Spiderpool's other plugins (the coordinator's
//! `ipam.spidernet.io/default-route-nic`) are not IPAM settings and are
//! left alone.
//!
//! `ippools` entries either all name their interface or none does. Named
//! entries are matched by name, and an interface the annotation does not
//! list is refused (Spiderpool: "interface must be specified"). Unnamed
//! entries are matched by order: the first is `eth0`, the n-th `net<n-1>`
//! (Multus's names for a pod's extra networks). Pools listed under `ipv4`
//! and `ipv6` must be pools of that family; names may be patterns.

use crate::annotation_values::{
    checked, of_family, parse_json, AnnotationError, Annotations, Selection,
};
use berth_core::pool_names::PoolRef;
use berth_policy_sdk::IpFamily;
use serde::Deserialize;

pub const SPIDER_SUBNET: &str = "ipam.spidernet.io/subnet";
pub const SPIDER_SUBNETS: &str = "ipam.spidernet.io/subnets";
pub const SPIDER_POOL_IP_NUMBER: &str = "ipam.spidernet.io/ippool-ip-number";
pub const SPIDER_POOL_RECLAIM: &str = "ipam.spidernet.io/ippool-reclaim";

/// Spiderpool pod annotations Berth refuses.
pub const REFUSED: [&str; 4] = [
    SPIDER_SUBNET,
    SPIDER_SUBNETS,
    SPIDER_POOL_IP_NUMBER,
    SPIDER_POOL_RECLAIM,
];

const SUBNET_INSTEAD: &str = "Berth has no SpiderSubnet (pools created per application from a \
    subnet); create BerthPools for the application's addresses and name them with \
    ipam.spidernet.io/ippool(s) or berth.io/ippool(s)";
const AUTO_POOL_INSTEAD: &str = "it sizes or reclaims SpiderSubnet's automatic pools, which \
    Berth does not have; remove it and name BerthPools with ipam.spidernet.io/ippool(s)";

/// The interface names of unnamed `ippools` entries, in order.
const ORDER: &str = "eth0, net1, net2, …";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MultiEntry {
    #[serde(default)]
    interface: Option<String>,
    #[serde(default)]
    ipv4: Vec<String>,
    #[serde(default)]
    ipv6: Vec<String>,
    #[serde(default)]
    cleangateway: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SingleEntry {
    #[serde(default)]
    ipv4: Vec<String>,
    #[serde(default)]
    ipv6: Vec<String>,
}

/// Refuses the Spiderpool annotations Berth does not support.
pub(crate) fn refuse_unsupported(pod: &Annotations) -> Result<(), AnnotationError> {
    match REFUSED.iter().find(|key| pod.contains_key(**key)) {
        None => Ok(()),
        Some(key) => Err(AnnotationError {
            key: (*key).to_owned(),
            problem: if *key == SPIDER_SUBNET || *key == SPIDER_SUBNETS {
                SUBNET_INSTEAD.to_owned()
            } else {
                AUTO_POOL_INSTEAD.to_owned()
            },
        }),
    }
}

/// The pools Spiderpool's pod annotations give `interface`, if any names
/// pools for the pod.
pub(crate) fn pod_pools(
    pod: &Annotations,
    interface: &str,
) -> Result<Option<Selection>, AnnotationError> {
    if let Some(value) = pod.get(crate::annotation_values::SPIDER_POOLS) {
        let key = crate::annotation_values::SPIDER_POOLS;
        let entries: Vec<MultiEntry> = parse_json(key, value)?;
        let entry = entry_for(entries, interface).map_err(|problem| AnnotationError {
            key: key.to_owned(),
            problem,
        })?;
        return Ok(Some(Selection {
            pools: checked(key, by_family(entry.ipv4, entry.ipv6))?,
            clean_gateway: entry.cleangateway,
        }));
    }
    if let Some(value) = pod.get(crate::annotation_values::SPIDER_POOL) {
        let key = crate::annotation_values::SPIDER_POOL;
        let entry: SingleEntry = parse_json(key, value)?;
        return Ok(Some(Selection::of(checked(
            key,
            by_family(entry.ipv4, entry.ipv6),
        )?)));
    }
    Ok(None)
}

fn by_family(ipv4: Vec<String>, ipv6: Vec<String>) -> Vec<PoolRef> {
    let mut refs = of_family(IpFamily::V4, ipv4);
    refs.extend(of_family(IpFamily::V6, ipv6));
    refs
}

fn entry_for(mut entries: Vec<MultiEntry>, interface: &str) -> Result<MultiEntry, String> {
    // Spiderpool reads an empty name as no name.
    for e in &mut entries {
        e.interface = e.interface.take().filter(|name| !name.is_empty());
    }
    let Some(first) = entries.first() else {
        return Err("lists no interface".to_owned());
    };
    let named = first.interface.is_some();
    if entries.iter().any(|e| e.interface.is_some() != named) {
        return Err(format!(
            "entries must all name their interface, or none may (then they are matched by order: {ORDER})"
        ));
    }
    if named {
        let mut seen: Vec<&str> = Vec::new();
        for name in entries.iter().filter_map(|e| e.interface.as_deref()) {
            if seen.contains(&name) {
                return Err(format!("lists interface {name} twice"));
            }
            seen.push(name);
        }
        let listed = seen.join(", ");
        return entries
            .into_iter()
            .find(|e| e.interface.as_deref() == Some(interface))
            .ok_or_else(|| format!("has no entry for interface {interface} (it lists {listed})"));
    }
    let count = entries.len();
    let index = order_index(interface).ok_or_else(|| {
        format!(
            "its entries name no interface, so they are matched by order ({ORDER}), which has no place for {interface}"
        )
    })?;
    entries.into_iter().nth(index).ok_or_else(|| {
        format!(
            "has {count} entries without names, matched by order ({ORDER}); {interface} would be entry {}",
            index + 1
        )
    })
}

/// `eth0` → 0, `net<n>` → n (n ≥ 1, written without leading zeros).
fn order_index(interface: &str) -> Option<usize> {
    if interface == crate::annotation_values::PRIMARY_INTERFACE {
        return Some(0);
    }
    let digits = interface.strip_prefix("net")?;
    let n: usize = digits.parse().ok()?;
    (n >= 1 && n.to_string() == digits).then_some(n)
}
