//! Where a pod runs, as far as pool selectors care: its namespace and node
//! with their labels. A pool's `namespaceSelector` and `nodeSelector` are
//! label maps that must all be present with equal values (Kubernetes'
//! `matchLabels`); an empty selector admits everything.
//!
//! The daemon fills a [`Placement`] in Kubernetes mode only; without one
//! (single host) no selector is evaluated, and the daemon's config refuses
//! selectors there so an operator never believes one is enforced.

use crate::pool::Pool;
use std::collections::BTreeMap;

pub type Labels = BTreeMap<String, String>;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    pub namespace: String,
    pub namespace_labels: Labels,
    pub node: String,
    pub node_labels: Labels,
}

/// Why a pool does not admit a placement, in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    pub pool: String,
    pub reason: String,
}

impl std::fmt::Display for Exclusion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pool {:?}: {}", self.pool, self.reason)
    }
}

impl Placement {
    /// `None` when `pool` admits this placement, else why not.
    pub fn excluded_by(&self, pool: &Pool) -> Option<Exclusion> {
        let exclusion = |reason| {
            Some(Exclusion {
                pool: pool.name.clone(),
                reason,
            })
        };
        if let Some((key, want)) = first_mismatch(&pool.namespace_selector, &self.namespace_labels)
        {
            return exclusion(format!(
                "namespaceSelector {key}={want} does not match namespace {:?} ({})",
                self.namespace,
                describe(&self.namespace_labels, key)
            ));
        }
        if let Some((key, want)) = first_mismatch(&pool.node_selector, &self.node_labels) {
            return exclusion(format!(
                "nodeSelector {key}={want} does not match node {:?} ({})",
                self.node,
                describe(&self.node_labels, key)
            ));
        }
        None
    }
}

fn first_mismatch<'a>(selector: &'a Labels, labels: &Labels) -> Option<(&'a str, &'a str)> {
    selector
        .iter()
        .find(|(key, want)| labels.get(*key) != Some(*want))
        .map(|(key, want)| (key.as_str(), want.as_str()))
}

fn describe(labels: &Labels, key: &str) -> String {
    match labels.get(key) {
        Some(value) => format!("it has {key}={value}"),
        None => format!("it has no {key} label"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::PoolSpec;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn pool(namespace: &[(&str, &str)], node: &[(&str, &str)]) -> Pool {
        Pool::from_spec(&PoolSpec {
            name: "p".into(),
            subnet: "10.9.0.0/24".into(),
            ips: vec![],
            exclude_ips: vec![],
            gateway: None,
            routes: vec![],
            default: false,
            namespace_selector: labels(namespace),
            node_selector: labels(node),
            ..PoolSpec::default()
        })
        .expect("valid pool")
    }

    fn placement(namespace: &[(&str, &str)], node: &[(&str, &str)]) -> Placement {
        Placement {
            namespace: "db".into(),
            namespace_labels: labels(namespace),
            node: "node-1".into(),
            node_labels: labels(node),
        }
    }

    #[test]
    fn empty_selectors_admit_everything() {
        assert_eq!(placement(&[], &[]).excluded_by(&pool(&[], &[])), None);
    }

    #[test]
    fn every_selector_label_must_match() {
        let p = pool(&[("team", "db")], &[("zone", "a"), ("disk", "ssd")]);
        let fits = placement(
            &[("team", "db"), ("x", "y")],
            &[("zone", "a"), ("disk", "ssd")],
        );
        assert_eq!(fits.excluded_by(&p), None);
        let wrong_zone = placement(&[("team", "db")], &[("zone", "b"), ("disk", "ssd")]);
        let why = wrong_zone.excluded_by(&p).expect("excluded");
        assert_eq!(
            why.reason,
            "nodeSelector zone=a does not match node \"node-1\" (it has zone=b)"
        );
        let no_team = placement(&[], &[("zone", "a"), ("disk", "ssd")]);
        let why = no_team.excluded_by(&p).expect("excluded");
        assert!(why.reason.contains("it has no team label"), "{why}");
    }
}
