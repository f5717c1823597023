//! SpiderReservedIP → BerthReservedIP of the same name and entries.
//!
//! Both kinds mean "no pool hands these out", and Berth's entries take the
//! same shapes (an address, a range `start-end`, a CIDR); Spiderpool's
//! `ipVersion` has no field in Berth because each entry states its family.
//! An entry Berth cannot read stops the migration: migrating the pools
//! without the reservation would let Berth hand the address out.
//! Reservations are written before the pools (see [`super::write`]), so no
//! node ever sees a migrated pool without them.

use super::model::{step, Action, Plan, Write};
use super::spider::SpiderReservedIP;
use berth_core::reserved::Reserved;
use berth_kube::{BerthReservedIP, BerthReservedIPSpec};
use kube::api::ObjectMeta;
use kube::ResourceExt;
use std::collections::BTreeMap;

pub const KIND: &str = "BerthReservedIP";

pub fn reserved(spider: &[SpiderReservedIP], existing: &[BerthReservedIP], plan: &mut Plan) {
    let existing: BTreeMap<String, &BerthReservedIP> =
        existing.iter().map(|r| (r.name_any(), r)).collect();
    let mut ordered: Vec<&SpiderReservedIP> = spider.iter().collect();
    ordered.sort_by_key(|r| r.name_any());
    for r in ordered {
        let name = r.name_any();
        let object = format!("spiderreservedip/{name}");
        let ips = r.spec.ips.clone();
        if ips.is_empty() {
            plan.note(&object, "reserves no address: nothing to migrate");
            continue;
        }
        if let Err(e) = Reserved::parse(&ips) {
            plan.conflict(None, &object, format!("cannot be a BerthReservedIP: {e}"));
            continue;
        }
        let detail = ips.join(",");
        match existing.get(&name) {
            Some(current) if same_addresses(&current.spec.ips, &ips) => {
                plan.steps
                    .push(step(Action::Unchanged, KIND, &name, detail, None));
            }
            Some(current) => {
                plan.steps.push(step(
                    Action::Kept,
                    KIND,
                    &name,
                    format!(
                        "exists with ips {}; kept as it is",
                        current.spec.ips.join(",")
                    ),
                    None,
                ));
                plan.note(
                    &object,
                    format!(
                        "berthreservedip/{name} exists with other ips: {detail} are reserved \
                         in Berth only where it (or another BerthReservedIP) covers them"
                    ),
                );
            }
            None => {
                let write = Write::Reserved(Box::new(berth_reserved(&name, ips)));
                plan.steps
                    .push(step(Action::Create, KIND, &name, detail, Some(write)));
            }
        }
    }
}

/// The same addresses, however the entries are written or ordered.
fn same_addresses(a: &[String], b: &[String]) -> bool {
    match (Reserved::parse(a), Reserved::parse(b)) {
        (Ok(a), Ok(b)) => a.same_addresses(&b),
        _ => false,
    }
}

fn berth_reserved(name: &str, ips: Vec<String>) -> BerthReservedIP {
    BerthReservedIP {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            ..ObjectMeta::default()
        },
        spec: BerthReservedIPSpec { ips },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::spider::ReservedIPSpec;

    fn spider(name: &str, ips: &[&str]) -> SpiderReservedIP {
        SpiderReservedIP::new(
            name,
            ReservedIPSpec {
                ip_version: Some(4),
                ips: ips.iter().map(|s| (*s).to_owned()).collect(),
            },
        )
    }

    fn berth(name: &str, ips: &[&str]) -> BerthReservedIP {
        berth_reserved(name, ips.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn each_reservation_is_created_once_and_then_unchanged() {
        let mut plan = Plan::default();
        reserved(&[spider("infra", &["10.6.0.1-10.6.0.9"])], &[], &mut plan);
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(plan.steps[0].action, Action::Create);
        assert!(
            matches!(&plan.steps[0].write, Some(Write::Reserved(r)) if r.spec.ips == ["10.6.0.1-10.6.0.9"])
        );

        // The same addresses written another way are the same reservation.
        let mut again = Plan::default();
        let existing = [berth("infra", &["10.6.0.8-10.6.0.9", "10.6.0.1-10.6.0.7"])];
        reserved(
            &[spider("infra", &["10.6.0.1-10.6.0.9"])],
            &existing,
            &mut again,
        );
        assert_eq!(again.steps[0].action, Action::Unchanged);
        assert_eq!(again.creates().count(), 0);
        assert!(again.not_migrated.is_empty() && again.conflicts.is_empty());
    }

    #[test]
    fn another_reservation_of_that_name_is_kept_and_the_gap_reported() {
        let mut plan = Plan::default();
        let existing = [berth("infra", &["10.6.0.1"])];
        reserved(
            &[spider("infra", &["10.6.0.1-10.6.0.9"])],
            &existing,
            &mut plan,
        );
        assert_eq!(plan.steps[0].action, Action::Kept);
        assert_eq!(plan.creates().count(), 0);
        assert_eq!(plan.not_migrated.len(), 1);
        assert!(plan.not_migrated[0].reason.contains("10.6.0.1-10.6.0.9"));
    }

    #[test]
    fn an_entry_berth_cannot_read_stops_the_migration() {
        let mut plan = Plan::default();
        reserved(
            &[
                spider("bad", &["10.6.0.9-10.6.0.1"]),
                spider("ok", &["10.6.0.5"]),
            ],
            &[],
            &mut plan,
        );
        assert_eq!(plan.conflicts.len(), 1);
        assert_eq!(plan.conflicts[0].object, "spiderreservedip/bad");
        assert!(plan.conflicts[0].problem.contains("starts after its end"));
        assert_eq!(plan.creates().count(), 1, "the others are still planned");
    }

    #[test]
    fn an_empty_reservation_is_reported_not_created() {
        let mut plan = Plan::default();
        reserved(&[spider("none", &[])], &[], &mut plan);
        assert!(plan.steps.is_empty());
        assert_eq!(plan.not_migrated.len(), 1);
    }
}
