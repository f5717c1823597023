//! Printable views of the allocator for the CLI and the metrics endpoint.

use crate::decision_log::DecisionLog;
use crate::limits::ADMIN_PAGE_BYTES_MAX;
use berth_core::allocator::Allocator;
use berth_core::describe;
use berth_core::record::{AddressRecord, RecordState};
use berth_policy_sdk::IpFamily;
use berth_proto::admin::{AllocationView, Explanation, PoolView};
use std::collections::BTreeMap;
use std::net::IpAddr;

fn family(f: IpFamily) -> &'static str {
    match f {
        IpFamily::V4 => "ipv4",
        IpFamily::V6 => "ipv6",
    }
}

/// Every pool in force with its usage and the held addresses its ranges
/// no longer cover, then one row per removed pool that still has records.
pub fn pools(allocator: &Allocator) -> Vec<PoolView> {
    let mut gone: BTreeMap<String, u64> = BTreeMap::new();
    let mut outside: BTreeMap<String, u64> = BTreeMap::new();
    for record in allocator.orphaned() {
        let counts = if allocator.pool(&record.pool).is_some() {
            &mut outside
        } else {
            &mut gone
        };
        *counts.entry(record.pool).or_default() += 1;
    }
    let mut views: Vec<PoolView> = allocator
        .pool_usage()
        .into_iter()
        .map(|u| {
            // ALLOCATED counts every held address naming the pool, as a
            // BerthPool's status does; ORPHANED says how many of them lie
            // outside its ranges now.
            let orphaned_addresses = outside.get(u.name.as_str()).copied().unwrap_or(0);
            PoolView {
                orphaned_addresses,
                name: u.name,
                subnet: u.subnet.to_string(),
                family: family(u.family).to_owned(),
                used: u.used + orphaned_addresses,
                total: u.total,
                default: u.default,
                orphaned: false,
                disabled: u.disabled,
                reserved: u.reserved,
            }
        })
        .collect();
    for (name, used) in gone {
        views.push(PoolView {
            name: name.to_owned(),
            subnet: "-".into(),
            family: "-".into(),
            used,
            total: 0,
            default: false,
            orphaned: true,
            disabled: false,
            reserved: 0,
            orphaned_addresses: used,
        });
    }
    views
}

fn pod(r: &AddressRecord) -> String {
    if r.pod.namespace.is_empty() && r.pod.name.is_empty() {
        return "-".into();
    }
    format!("{}/{}", r.pod.namespace, r.pod.name)
}

/// One page of allocations in address order after `after`, as large as
/// fits `ADMIN_PAGE_BYTES_MAX` encoded, and where the next page starts.
pub fn allocations_page(
    allocator: &Allocator,
    after: Option<IpAddr>,
) -> (Vec<AllocationView>, Option<String>) {
    let mut addresses: Vec<IpAddr> = allocator
        .records()
        .map(|r| r.address)
        .filter(|a| after.is_none_or(|after| *a > after))
        .collect();
    addresses.sort_unstable();
    let mut page = Vec::new();
    let mut bytes = 0;
    for address in &addresses {
        let Some(record) = allocator.record(*address) else {
            continue;
        };
        let mut view = allocation(&record);
        view.orphaned = !allocator
            .pool(&record.pool)
            .is_some_and(|p| p.is_assignable(record.address));
        // Encoding a small struct cannot fail; count it as large if it did.
        bytes += serde_json::to_vec(&view).map_or(ADMIN_PAGE_BYTES_MAX, |v| v.len() + 1);
        if bytes > ADMIN_PAGE_BYTES_MAX && !page.is_empty() {
            let last = page.last().map(|v: &AllocationView| v.address.clone());
            return (page, last);
        }
        page.push(view);
    }
    (page, None)
}

fn allocation(r: &AddressRecord) -> AllocationView {
    let (state, expires) = match r.state {
        RecordState::Attached => ("attached", None),
        RecordState::Retained {
            expires_at_unix_secs,
            ..
        } => ("retained", expires_at_unix_secs),
    };
    AllocationView {
        pool: r.pool.clone(),
        address: r.address.to_string(),
        network: r.network.clone(),
        state: state.into(),
        container_id: r.attachment.as_ref().map(|a| a.container_id.clone()),
        ifname: r.interface.clone(),
        pod: pod(r),
        identity: r.identity_key().map(str::to_owned),
        retention: r
            .identity
            .as_ref()
            .map(|i| describe::retention(i.retention)),
        expires_at_unix_secs: expires,
        orphaned: false,
    }
}

/// Records matching `target`: an address, a container id or an identity.
pub fn explain(allocator: &Allocator, decisions: &DecisionLog, target: &str) -> Vec<Explanation> {
    allocator
        .records()
        .filter(|r| {
            r.address.to_string() == target
                || r.attachment
                    .as_ref()
                    .is_some_and(|a| a.container_id == target)
                || r.identity_key() == Some(target)
        })
        .map(|r| Explanation {
            pool: r.pool.clone(),
            address: r.address.to_string(),
            pod: pod(&r),
            identity: r.identity_key().map(str::to_owned),
            placed_by: decisions.placed_by(&r),
            steps: if r.trace.is_empty() {
                // Records keep only the steps that did something.
                vec![describe::NO_STEPS.to_owned()]
            } else {
                r.trace.iter().map(describe::trace_step).collect()
            },
        })
        .collect()
}
