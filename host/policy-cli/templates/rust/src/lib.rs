//! {{name}}: keeps only the candidate pools listed in `pools`, in the
//! request's order; rejects a request none of them serves.

use berth_policy_sdk::{Decision, Policy, Request};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")] // refuse typos at load
pub struct Settings {
    #[serde(default)]
    pub pools: Vec<String>,
}

pub struct OnlyThese;

impl Policy for OnlyThese {
    type Settings = Settings;
    const NAME: &'static str = "{{name}}";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn validate(s: &Settings) -> Result<(), String> {
        if s.pools.is_empty() {
            Err("pools: must not be empty".into())
        } else {
            Ok(())
        }
    }

    fn evaluate(s: &Settings, r: &Request) -> Decision {
        let keep: Vec<String> = r
            .pools
            .iter()
            .filter(|p| s.pools.contains(&p.name))
            .map(|p| p.name.clone())
            .collect();
        if keep.is_empty() {
            Decision::Reject(format!("none of {:?} is a candidate pool", s.pools))
        } else {
            Decision::RestrictPools(keep)
        }
    }
}

berth_policy_sdk::export_policy!(OnlyThese);

#[cfg(test)]
mod tests {
    use super::*;
    use berth_policy_sdk::harness::{pool, Harness, RequestBuilder};

    fn request() -> Request {
        RequestBuilder::new()
            .pools(vec![pool("a", "10.1.0.0/24"), pool("b", "10.2.0.0/24")])
            .build()
    }

    #[test]
    fn keeps_only_listed_pools() {
        let h = Harness::<OnlyThese>::new(r#"{"pools": ["b"]}"#).expect("valid settings");
        assert_eq!(h.evaluate(&request()), Decision::RestrictPools(vec!["b".into()]));
    }

    #[test]
    fn rejects_when_no_listed_pool_is_a_candidate() {
        let h = Harness::<OnlyThese>::new(r#"{"pools": ["c"]}"#).expect("valid settings");
        assert!(matches!(h.evaluate(&request()), Decision::Reject(_)));
    }

    #[test]
    fn empty_settings_are_refused() {
        assert!(Harness::<OnlyThese>::new(r#"{"pools": []}"#).is_err());
        assert!(Harness::<OnlyThese>::new(r#"{"pool": ["b"]}"#).is_err(), "typo refused");
    }
}
