//! Which pools of a cluster can be used, each on its own merits: a broken
//! or overlapping BerthPool never blocks the others (nodes used to load
//! them all valid or none, so one typo froze every pool change on every
//! node). Candidates come in precedence order — the cluster's oldest pool
//! first — and an overlap makes the *later* pool invalid, so a pool in use
//! keeps working when someone creates a conflicting one.
//!
//! Single-host configs use it to list every reason a file is refused, and
//! then refuse the file whole.

use crate::limits::POOLS_MAX;
use crate::pool::{Pool, PoolError};
use berth_policy_sdk::IpFamily;
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admitted {
    /// In precedence order.
    pub valid: Vec<Pool>,
    /// Why each other pool cannot be used.
    pub invalid: Vec<PoolError>,
}

/// Sorts `candidates` (already validated one by one) into usable and not.
pub fn admit(candidates: Vec<Result<Pool, PoolError>>) -> Admitted {
    let mut out = Admitted::default();
    let mut names = HashSet::new();
    // Per family: start -> (end, pool) of the accepted, disjoint spans.
    let mut spans: BTreeMap<(bool, u128), (u128, String)> = BTreeMap::new();
    for candidate in candidates {
        let pool = match candidate {
            Ok(pool) => pool,
            Err(e) => {
                out.invalid.push(e);
                continue;
            }
        };
        let refuse = |problem: String, field| PoolError {
            pool: pool.name.clone(),
            field,
            problem,
        };
        if out.valid.len() >= POOLS_MAX {
            out.invalid
                .push(refuse(format!("more than {POOLS_MAX} pools"), "name"));
            continue;
        }
        if names.contains(pool.name.as_str()) {
            out.invalid.push(refuse("defined twice".to_owned(), "name"));
            continue;
        }
        let v6 = pool.family == IpFamily::V6;
        let clash = pool.absolute_ranges().find_map(|(start, end)| {
            // Accepted spans are disjoint: only the last one starting at
            // or before `end` can reach back to `start`.
            spans
                .range((v6, 0)..=(v6, end))
                .next_back()
                .filter(|(_, (other_end, _))| *other_end >= start)
                .map(|(_, (_, other))| other.clone())
        });
        if let Some(other) = clash {
            out.invalid.push(refuse(
                format!("overlaps the addresses of pool {other:?}, which came first"),
                "ips",
            ));
            continue;
        }
        for (start, end) in pool.absolute_ranges() {
            spans.insert((v6, start), (end, pool.name.clone()));
        }
        names.insert(pool.name.clone());
        out.valid.push(pool);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::PoolSpec;

    fn pool(name: &str, subnet: &str, ips: &[&str]) -> Result<Pool, PoolError> {
        Pool::from_spec(&PoolSpec {
            name: name.into(),
            subnet: subnet.into(),
            ips: ips.iter().map(|s| s.to_string()).collect(),
            ..PoolSpec::default()
        })
    }

    #[test]
    fn a_broken_or_overlapping_pool_leaves_the_others_usable() {
        let admitted = admit(vec![
            pool("first", "10.1.0.0/24", &["10.1.0.10-10.1.0.20"]),
            pool("typo", "10.2.0.0/33", &[]),
            pool("later", "10.1.0.0/24", &["10.1.0.15-10.1.0.30"]),
            pool("beside", "10.1.0.0/24", &["10.1.0.21-10.1.0.40"]),
            pool("v6", "fd00::/120", &[]),
            pool("first", "10.3.0.0/24", &[]),
        ]);
        let valid: Vec<&str> = admitted.valid.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(valid, ["first", "beside", "v6"]);
        let invalid: Vec<(&str, &str)> = admitted
            .invalid
            .iter()
            .map(|e| (e.pool.as_str(), e.field))
            .collect();
        assert_eq!(
            invalid,
            [("typo", "subnet"), ("later", "ips"), ("first", "name")]
        );
        assert!(admitted.invalid[1].problem.contains("\"first\""));
    }
}
