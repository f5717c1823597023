//! What a StatefulSet-like owner says about its pods' ordinals: which
//! ordinals it keeps, read from its spec. Pure; the reading is `owners`.

use berth_kube::limits::OWNER_RESERVED_ORDINALS_MAX;
use serde_json::Value;

/// A pod owner as GC finds it on the API server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerState {
    /// No such object: its identities are retired.
    Gone,
    /// It exists; which ordinals it keeps, or `None` when its spec does not
    /// say (then none of its identities is retired by scale).
    Live(Option<Ordinals>),
    /// Berth cannot read this kind (not in discovery, or RBAC forbids it):
    /// its identities are never retired by GC.
    Unreadable,
}

/// The ordinals a StatefulSet-like owner runs: the first `replicas`
/// ordinals from `start` that are not reserved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ordinals {
    pub replicas: u32,
    /// `spec.ordinals.start` (apps/v1 since Kubernetes 1.27, and OpenKruise).
    pub start: u32,
    /// OpenKruise's `spec.reserveOrdinals`: ordinals skipped, as inclusive
    /// ranges (its pods run at the next free ordinals instead).
    pub reserved: Vec<(u32, u32)>,
}

impl Ordinals {
    /// Whether the owner runs (or will run) a pod of `ordinal`.
    pub fn keeps(&self, ordinal: u32) -> bool {
        if ordinal < self.start || self.is_reserved(ordinal) {
            return false;
        }
        // The pods before `ordinal`: every ordinal from `start` that is
        // not reserved. `ordinal` runs if fewer than `replicas` come first.
        let span = u64::from(ordinal - self.start);
        let reserved_before: u64 = self
            .reserved
            .iter()
            .map(|&(lo, hi)| {
                let lo = lo.max(self.start);
                let hi = hi.min(ordinal.saturating_sub(1));
                if ordinal == 0 || lo > hi {
                    0
                } else {
                    u64::from(hi - lo) + 1
                }
            })
            .sum();
        span.saturating_sub(reserved_before) < u64::from(self.replicas)
    }

    fn is_reserved(&self, ordinal: u32) -> bool {
        self.reserved
            .iter()
            .any(|&(lo, hi)| lo <= ordinal && ordinal <= hi)
    }

    /// Reads an owner's `spec` (as JSON): `replicas`, `ordinals.start` and
    /// `reserveOrdinals` (integers, "n" or "a-b" strings). `None` when
    /// `replicas` is missing or anything present is not understood: an
    /// owner Berth cannot interpret keeps every ordinal.
    pub fn from_spec(spec: &Value) -> Option<Self> {
        let replicas = u32::try_from(spec.get("replicas")?.as_u64()?).ok()?;
        let start = match spec.get("ordinals").and_then(|o| o.get("start")) {
            None | Some(Value::Null) => 0,
            Some(v) => u32::try_from(v.as_u64()?).ok()?,
        };
        let reserved = match spec.get("reserveOrdinals") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) if items.len() <= OWNER_RESERVED_ORDINALS_MAX => items
                .iter()
                .map(reserved_range)
                .collect::<Option<Vec<_>>>()?,
            Some(_) => return None,
        };
        Some(Ordinals {
            replicas,
            start,
            reserved,
        })
    }
}

/// One `reserveOrdinals` entry: 3, "3" or "3-5".
fn reserved_range(item: &Value) -> Option<(u32, u32)> {
    match item {
        Value::Number(n) => {
            let n = u32::try_from(n.as_u64()?).ok()?;
            Some((n, n))
        }
        Value::String(s) => {
            let (lo, hi) = s.split_once('-').unwrap_or((s, s));
            let (lo, hi) = (lo.trim().parse().ok()?, hi.trim().parse().ok()?);
            (lo <= hi).then_some((lo, hi))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kept(ordinals: &Ordinals, upto: u32) -> Vec<u32> {
        (0..upto).filter(|o| ordinals.keeps(*o)).collect()
    }

    #[test]
    fn plain_replicas_keep_the_first_ordinals() {
        let o = Ordinals::from_spec(&json!({ "replicas": 3 })).expect("spec");
        assert_eq!(kept(&o, 10), [0, 1, 2]);
        let none = Ordinals::from_spec(&json!({ "replicas": 0 })).expect("spec");
        assert!(kept(&none, 10).is_empty());
    }

    #[test]
    fn a_start_ordinal_shifts_the_kept_ones() {
        let o = Ordinals::from_spec(&json!({ "replicas": 3, "ordinals": { "start": 5 } }))
            .expect("spec");
        assert_eq!(kept(&o, 20), [5, 6, 7]);
    }

    #[test]
    fn reserved_ordinals_are_skipped_and_later_ones_kept() {
        // OpenKruise: replicas 3, reserve 1 → pods 0, 2, 3.
        let o =
            Ordinals::from_spec(&json!({ "replicas": 3, "reserveOrdinals": [1] })).expect("spec");
        assert_eq!(kept(&o, 10), [0, 2, 3]);
        let o = Ordinals::from_spec(&json!({
            "replicas": 4, "ordinals": { "start": 2 }, "reserveOrdinals": ["3-4", 7, "0"]
        }))
        .expect("spec");
        assert_eq!(kept(&o, 20), [2, 5, 6, 8]);
    }

    #[test]
    fn what_is_not_understood_keeps_everything() {
        for spec in [
            json!({}),
            json!({ "replicas": -1 }),
            json!({ "replicas": "3" }),
            json!({ "replicas": 3, "ordinals": { "start": "x" } }),
            json!({ "replicas": 3, "reserveOrdinals": ["5-2"] }),
            json!({ "replicas": 3, "reserveOrdinals": [{ "x": 1 }] }),
            json!({ "replicas": 3, "reserveOrdinals": "1" }),
            json!({ "replicas": 3, "reserveOrdinals": vec![1; OWNER_RESERVED_ORDINALS_MAX + 1] }),
        ] {
            assert_eq!(Ordinals::from_spec(&spec), None, "{spec}");
        }
    }
}
