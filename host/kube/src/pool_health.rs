//! What a pool's status says beyond its counts, and which Events go with
//! it (pure: the status writer reads the cluster and writes the result).
//!
//! * `Valid` — always present: whether berthd uses the pool, and why not.
//! * `Orphaned` — present while held addresses lie outside the pool's
//!   assignable ranges (the ranges shrank under them): a warning, since
//!   they stay with their holders and are never handed out again.
//! * `Deleting` — present while the pool is being deleted and still holds
//!   addresses: says why `kubectl delete` waits (the finalizer).

use crate::crd_pool::{BerthPool, PoolCondition};
use crate::pool_events::{EventType, PoolEvent};
use std::net::IpAddr;

use crate::limits::ORPHANS_NAMED_MAX;

/// What the status writer counted for one pool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counted {
    /// Objects naming the pool.
    pub allocated: u64,
    /// Held addresses outside the pool's assignable ranges, in order.
    pub orphaned: Vec<IpAddr>,
    /// Why the pool is not used, if it is not.
    pub invalid: Option<String>,
    pub deleting: bool,
}

fn previous<'a>(pool: &'a BerthPool, type_: &str) -> Option<&'a PoolCondition> {
    pool.status
        .as_ref()
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == type_))
}

fn listed(addresses: &[IpAddr]) -> String {
    let mut text = addresses
        .iter()
        .take(ORPHANS_NAMED_MAX)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if addresses.len() > ORPHANS_NAMED_MAX {
        text.push_str(&format!(
            " and {} more",
            addresses.len() - ORPHANS_NAMED_MAX
        ));
    }
    text
}

fn orphaned_message(addresses: &[IpAddr]) -> String {
    format!(
        "{} held address(es) lie outside the pool's ranges: {}; they stay with their holders and are never handed out again once released",
        addresses.len(),
        listed(addresses)
    )
}

fn deleting_message(allocated: u64) -> String {
    format!(
        "deletion waits until the {allocated} address(es) the pool holds are released (finalizer berth.io/held-addresses); the pool hands out nothing new"
    )
}

/// The pool's conditions for what was counted.
pub fn conditions(pool: &BerthPool, counted: &Counted) -> Vec<PoolCondition> {
    let generation = pool.metadata.generation;
    let mut out = vec![PoolCondition::valid(
        counted.invalid.as_deref(),
        generation,
        previous(pool, "Valid"),
    )];
    if !counted.orphaned.is_empty() {
        out.push(PoolCondition::new(
            "Orphaned",
            "True",
            "HeldOutsideRanges",
            orphaned_message(&counted.orphaned),
            generation,
            previous(pool, "Orphaned"),
        ));
    }
    if counted.deleting && counted.allocated > 0 {
        out.push(PoolCondition::new(
            "Deleting",
            "True",
            "AddressesHeld",
            deleting_message(counted.allocated),
            generation,
            previous(pool, "Deleting"),
        ));
    }
    out
}

/// The Events the counted state calls for; each is written once per fact
/// (`pool_events`), so calling this on every pass is safe.
pub fn events(pool: &BerthPool, counted: &Counted) -> Vec<PoolEvent> {
    let generation = pool.metadata.generation.unwrap_or_default();
    let mut out = Vec::new();
    if let Some(problem) = &counted.invalid {
        out.push(PoolEvent {
            type_: EventType::Warning,
            reason: "InvalidPool",
            action: "Validate",
            note: format!("{problem}; berthd does not use this pool"),
            key: format!("{generation}\n{problem}"),
        });
    }
    if !counted.orphaned.is_empty() {
        out.push(PoolEvent {
            type_: EventType::Warning,
            reason: "AddressesOutsideRanges",
            action: "Count",
            note: orphaned_message(&counted.orphaned),
            key: format!("{generation}\n{}", listed(&counted.orphaned)),
        });
    }
    if counted.deleting && counted.allocated > 0 {
        // One Event per deletion: the condition carries the live count.
        out.push(PoolEvent {
            type_: EventType::Normal,
            reason: "DeletionWaiting",
            action: "Delete",
            note: deleting_message(counted.allocated),
            key: String::new(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> BerthPool {
        let spec =
            serde_json::from_value(serde_json::json!({ "subnet": "10.0.0.0/24" })).expect("a spec");
        let mut p = BerthPool::new("p", spec);
        p.metadata.generation = Some(3);
        p
    }

    fn addresses(n: u8) -> Vec<IpAddr> {
        (1..=n).map(|i| IpAddr::from([10, 0, 0, i])).collect()
    }

    #[test]
    fn a_healthy_pool_has_only_valid() {
        let c = conditions(&pool(), &Counted::default());
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].type_.as_str(), c[0].status.as_str()),
            ("Valid", "True")
        );
        assert!(events(&pool(), &Counted::default()).is_empty());
    }

    #[test]
    fn orphaned_addresses_are_a_warning_naming_them() {
        let counted = Counted {
            allocated: 13,
            orphaned: addresses(12),
            ..Counted::default()
        };
        let c = conditions(&pool(), &counted);
        let orphaned = c.iter().find(|c| c.type_ == "Orphaned").expect("Orphaned");
        assert_eq!(orphaned.reason, "HeldOutsideRanges");
        assert!(
            orphaned.message.starts_with("12 held address(es)"),
            "{}",
            orphaned.message
        );
        assert!(
            orphaned.message.contains("10.0.0.10 and 2 more"),
            "{}",
            orphaned.message
        );
        assert_eq!(orphaned.observed_generation, Some(3));
        let e = events(&pool(), &counted);
        assert_eq!(e.len(), 1);
        assert_eq!(
            (e[0].type_, e[0].reason),
            (EventType::Warning, "AddressesOutsideRanges")
        );
    }

    #[test]
    fn deletion_waits_only_while_addresses_are_held() {
        let mut counted = Counted {
            allocated: 2,
            deleting: true,
            ..Counted::default()
        };
        let c = conditions(&pool(), &counted);
        let deleting = c.iter().find(|c| c.type_ == "Deleting").expect("Deleting");
        assert!(
            deleting.message.contains("the 2 address(es)"),
            "{}",
            deleting.message
        );
        counted.allocated = 0;
        assert!(!conditions(&pool(), &counted)
            .iter()
            .any(|c| c.type_ == "Deleting"));
        assert!(events(&pool(), &counted).is_empty());
    }

    #[test]
    fn an_invalid_pool_gets_a_warning_event_per_generation_and_message() {
        let counted = Counted {
            invalid: Some("overlaps pool \"first\"".into()),
            ..Counted::default()
        };
        let e = events(&pool(), &counted);
        assert_eq!(
            (e[0].type_, e[0].reason),
            (EventType::Warning, "InvalidPool")
        );
        let mut later = pool();
        later.metadata.generation = Some(4);
        assert_ne!(e[0].key, events(&later, &counted)[0].key);
    }
}
