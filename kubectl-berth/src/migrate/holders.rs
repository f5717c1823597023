//! Who else holds an address: Berth already (a conflict unless it is the
//! same holder, which makes the step `unchanged`), or Spiderpool's own
//! pool status disagreeing with its endpoints.

use super::model::{step, Action, Inputs, Plan, Targets, Write};
use berth_core::describe;
use berth_core::record::AddressRecord;
use berth_kube::names::address_object_name;
use kube::ResourceExt;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The record against what Berth holds already: the same holder means it
/// is migrated; anyone else holding the address, or the identity holding
/// another address on that interface, stops the migration.
pub fn against_berth(inputs: &Inputs<'_>, record: AddressRecord, plan: &mut Plan) {
    let name = address_object_name(&record.pool, record.address);
    let address = record.address.to_string();
    let mut same = false;
    for h in inputs.held {
        let spec = &h.object.spec;
        if spec.address.parse::<IpAddr>().ok() == Some(record.address) {
            let theirs = spec.identity.as_ref().map(|i| i.key.as_str());
            let holder_matches = match record.identity_key() {
                Some(key) => theirs == Some(key),
                None => theirs.is_none() && spec.pod.uid == record.pod.uid,
            };
            if h.name() == name && holder_matches {
                same = true;
            } else {
                plan.conflict(
                    Some(address.clone()),
                    format!("berthaddresses/{}", h.name()),
                    format!(
                        "held in Berth by {}/{}{} (Spiderpool gives it to {}/{})",
                        spec.pod.namespace,
                        spec.pod.name,
                        theirs
                            .map(|k| format!(", identity {k}"))
                            .unwrap_or_default(),
                        record.pod.namespace,
                        record.pod.name
                    ),
                );
                return;
            }
        }
        if let (Some(key), Ok(r)) = (record.identity_key(), &h.record) {
            if r.identity_key() == Some(key)
                && r.interface == record.interface
                && r.family() == record.family()
                && r.address != record.address
            {
                plan.conflict(
                    Some(address.clone()),
                    format!("berthaddresses/{}", h.name()),
                    format!(
                        "identity {key} already holds {} in Berth on {}",
                        r.address, r.interface
                    ),
                );
                return;
            }
        }
    }
    let detail = format!(
        "{}/{} {} {}{} on {}",
        record.pod.namespace,
        record.pod.name,
        record.interface,
        if record.is_attached() {
            "attached"
        } else {
            "retained"
        },
        record
            .identity
            .as_ref()
            .map(|i| format!(
                ", identity {} ({})",
                i.key,
                describe::retention(i.retention)
            ))
            .unwrap_or_default(),
        record.node
    );
    if same {
        plan.steps
            .push(step(Action::Unchanged, "BerthAddress", &name, detail, None));
    } else {
        let write = Write::Address(Box::new(record));
        plan.steps.push(step(
            Action::Create,
            "BerthAddress",
            &name,
            detail,
            Some(write),
        ));
    }
}

/// Each address a migrated pool's `status.allocatedIPs` lists must be an
/// endpoint's: one that is not cannot be attributed to an interface.
pub fn allocated_ips(
    inputs: &Inputs<'_>,
    targets: &Targets,
    claimed: &BTreeMap<(String, IpAddr), String>,
    plan: &mut Plan,
) {
    for pool in inputs.spider_pools {
        let name = pool.name_any();
        if !targets.contains_key(&name) {
            continue;
        }
        let object = format!("spiderippool/{name}");
        let listed = match pool.status.as_ref().map(|s| s.allocations()) {
            None => continue,
            Some(Ok(listed)) => listed,
            Some(Err(e)) => {
                plan.conflict(
                    None,
                    &object,
                    format!("status.allocatedIPs is not readable: {e}"),
                );
                continue;
            }
        };
        for (ip, allocation) in listed {
            let Ok(address) = ip.split('/').next().unwrap_or_default().parse::<IpAddr>() else {
                plan.conflict(
                    Some(ip.clone()),
                    &object,
                    "status.allocatedIPs lists a non-address",
                );
                continue;
            };
            match claimed.get(&(name.clone(), address)) {
                Some(pod) if *pod == allocation.pod => {}
                Some(pod) => plan.conflict(
                    Some(address.to_string()),
                    &object,
                    format!("status.allocatedIPs gives it to {}, SpiderEndpoint {pod} holds it", allocation.pod),
                ),
                None => plan.conflict(
                    Some(address.to_string()),
                    &object,
                    format!(
                        "status.allocatedIPs gives it to {} but no SpiderEndpoint holds it; resolve it in Spiderpool first",
                        allocation.pod
                    ),
                ),
            }
        }
    }
}
