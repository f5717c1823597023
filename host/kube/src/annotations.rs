//! Which pools a pod's interface may use, from annotations.
//!
//! Precedence (first that names pools wins): the pod's annotations, the
//! namespace's annotations, the CNI network config's `ipam.pools`; when none
//! names any, the allocator falls back to pools marked default.
//!
//! Berth's own annotations, and Spiderpool's so workloads migrate unchanged:
//!
//! | where | key | value |
//! |---|---|---|
//! | pod | `berth.io/ippools` | `[{"interface":"net1","pools":["a","b"],"cleanGateway":true}]` |
//! | pod | `berth.io/ippool` | `a` or `a,b` (the primary interface) |
//! | pod | `ipam.spidernet.io/ippools` | `[{"interface":"eth0","ipv4":["a"],"ipv6":["b"],"cleangateway":true}]` |
//! | pod | `ipam.spidernet.io/ippool` | `{"ipv4":["a"],"ipv6":["b"]}` (primary interface) |
//! | namespace | `berth.io/default-ippool` | `a` or `a,b` |
//! | namespace | `ipam.spidernet.io/default-ipv4-ippool` / `-ipv6-` | `["a"]` |
//!
//! The entry of an `ippools` annotation that names the interface's pools
//! may also say `cleanGateway` (Berth) / `cleangateway` (Spiderpool);
//! `network_annotations.rs` reads the pod-wide settings.
//!
//! A malformed annotation is an error naming it, never silently ignored:
//! ignoring it would put the pod in a pool its owner did not choose.

use serde::Deserialize;
use std::collections::BTreeMap;

pub const BERTH_POOLS: &str = "berth.io/ippools";
pub const BERTH_POOL: &str = "berth.io/ippool";
pub const SPIDER_POOLS: &str = "ipam.spidernet.io/ippools";
pub const SPIDER_POOL: &str = "ipam.spidernet.io/ippool";
pub const NS_BERTH_DEFAULT: &str = "berth.io/default-ippool";
pub const NS_SPIDER_V4: &str = "ipam.spidernet.io/default-ipv4-ippool";
pub const NS_SPIDER_V6: &str = "ipam.spidernet.io/default-ipv6-ippool";

/// Annotation prefixes forwarded to policies (everything else stays out
/// of the request: annotations can be large and are nobody's business).
pub const FORWARDED_PREFIXES: [&str; 2] = ["berth.io/", "ipam.spidernet.io/"];

/// The interface a single-pool annotation applies to.
pub const PRIMARY_INTERFACE: &str = "eth0";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("annotation {key}: {problem}")]
pub struct AnnotationError {
    pub key: String,
    pub problem: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BerthEntry {
    interface: String,
    pools: Vec<String>,
    #[serde(default, rename = "cleanGateway")]
    clean_gateway: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
struct SpiderEntry {
    #[serde(default)]
    interface: Option<String>,
    #[serde(default)]
    ipv4: Vec<String>,
    #[serde(default)]
    ipv6: Vec<String>,
    #[serde(default)]
    cleangateway: Option<bool>,
}

/// What the annotations choose for one interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Pools, highest priority first; empty when nothing names any.
    pub pools: Vec<String>,
    /// The `cleanGateway` of the `ippools` entry that named the pools.
    pub clean_gateway: Option<bool>,
}

impl Selection {
    fn of(pools: Vec<String>) -> Self {
        Self {
            pools,
            clean_gateway: None,
        }
    }
}

type Annotations = BTreeMap<String, String>;

/// What the annotations choose for `interface`: its pools (empty when
/// nothing names any) and the choosing entry's `cleanGateway`.
pub fn pools_for(
    pod: &Annotations,
    namespace: &Annotations,
    interface: &str,
    from_cni_config: &[String],
) -> Result<Selection, AnnotationError> {
    let primary = interface == PRIMARY_INTERFACE;
    if let Some(value) = pod.get(BERTH_POOLS) {
        let entries: Vec<BerthEntry> = parse_json(BERTH_POOLS, value)?;
        if let Some(e) = entries.into_iter().find(|e| e.interface == interface) {
            return Ok(Selection {
                pools: checked(BERTH_POOLS, e.pools)?,
                clean_gateway: e.clean_gateway,
            });
        }
    }
    if let (true, Some(value)) = (primary, pod.get(BERTH_POOL)) {
        return checked(BERTH_POOL, split_list(value)).map(Selection::of);
    }
    if let Some(value) = pod.get(SPIDER_POOLS) {
        let entries: Vec<SpiderEntry> = parse_json(SPIDER_POOLS, value)?;
        let mut entries = entries.into_iter();
        // Spiderpool lets the first entry omit its interface.
        if let Some(e) =
            entries.find(|e| e.interface.as_deref().unwrap_or(PRIMARY_INTERFACE) == interface)
        {
            return Ok(Selection {
                pools: checked(SPIDER_POOLS, [e.ipv4, e.ipv6].concat())?,
                clean_gateway: e.cleangateway,
            });
        }
    }
    if let (true, Some(value)) = (primary, pod.get(SPIDER_POOL)) {
        let e: SpiderEntry = parse_json(SPIDER_POOL, value)?;
        return checked(SPIDER_POOL, [e.ipv4, e.ipv6].concat()).map(Selection::of);
    }
    if let Some(value) = namespace.get(NS_BERTH_DEFAULT) {
        return checked(NS_BERTH_DEFAULT, split_list(value)).map(Selection::of);
    }
    let mut spider_ns = Vec::new();
    for key in [NS_SPIDER_V4, NS_SPIDER_V6] {
        if let Some(value) = namespace.get(key) {
            spider_ns.extend(parse_json::<Vec<String>>(key, value)?);
        }
    }
    if !spider_ns.is_empty() {
        return checked(NS_SPIDER_V4, spider_ns).map(Selection::of);
    }
    Ok(Selection::of(from_cni_config.to_vec()))
}

pub(crate) fn parse_json<T: for<'de> Deserialize<'de>>(
    key: &str,
    value: &str,
) -> Result<T, AnnotationError> {
    serde_json::from_str(value).map_err(|e| AnnotationError {
        key: key.to_owned(),
        problem: format!("not valid: {e}"),
    })
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn checked(key: &str, pools: Vec<String>) -> Result<Vec<String>, AnnotationError> {
    if pools.is_empty() {
        return Err(AnnotationError {
            key: key.to_owned(),
            problem: "names no pool".into(),
        });
    }
    if let Some(bad) = pools
        .iter()
        .find(|p| p.is_empty() || p.len() > 253 || p.contains('/'))
    {
        return Err(AnnotationError {
            key: key.to_owned(),
            problem: format!("{bad:?} is not a pool name"),
        });
    }
    Ok(pools)
}

/// Annotations a policy may see: only the forwarded prefixes.
pub fn forwarded(all: &Annotations) -> impl Iterator<Item = (&String, &String)> {
    all.iter()
        .filter(|(k, _)| FORWARDED_PREFIXES.iter().any(|p| k.starts_with(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(pairs: &[(&str, &str)]) -> Annotations {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn precedence_pod_then_namespace_then_cni_config() {
        let cni = vec!["from-cni".to_owned()];
        let ns = ann(&[(NS_BERTH_DEFAULT, "ns-a,ns-b")]);
        let none = Annotations::new();
        let spider_ns = ann(&[(NS_SPIDER_V4, r#"["v4"]"#), (NS_SPIDER_V6, r#"["v6"]"#)]);
        let cases: Vec<(Annotations, &Annotations, &str, Vec<&str>)> = vec![
            (ann(&[(BERTH_POOL, "p")]), &ns, "eth0", vec!["p"]),
            (ann(&[(BERTH_POOL, "p")]), &ns, "net1", vec!["ns-a", "ns-b"]),
            (
                ann(&[(BERTH_POOLS, r#"[{"interface":"net1","pools":["n1"]}]"#)]),
                &ns,
                "net1",
                vec!["n1"],
            ),
            (
                ann(&[(SPIDER_POOL, r#"{"ipv4":["test-ippool"]}"#)]),
                &none,
                "eth0",
                vec!["test-ippool"],
            ),
            (
                ann(&[(
                    SPIDER_POOLS,
                    r#"[{"interface":"eth0","ipv4":["a"],"ipv6":["b"]}]"#,
                )]),
                &none,
                "eth0",
                vec!["a", "b"],
            ),
            (Annotations::new(), &ns, "eth0", vec!["ns-a", "ns-b"]),
            (Annotations::new(), &spider_ns, "eth0", vec!["v4", "v6"]),
            (Annotations::new(), &none, "eth0", vec!["from-cni"]),
        ];
        for (pod, ns, ifname, want) in cases {
            assert_eq!(
                pools_for(&pod, ns, ifname, &cni).expect("valid").pools,
                want,
                "{pod:?} {ns:?} {ifname}"
            );
        }
    }

    #[test]
    fn the_entry_that_names_the_pools_may_clean_the_gateway() {
        let none = Annotations::new();
        let berth = ann(&[(
            BERTH_POOLS,
            r#"[{"interface":"eth0","pools":["a"],"cleanGateway":true},{"interface":"net1","pools":["b"]}]"#,
        )]);
        let eth0 = pools_for(&berth, &none, "eth0", &[]).expect("valid");
        assert_eq!(eth0.clean_gateway, Some(true));
        assert_eq!(
            pools_for(&berth, &none, "net1", &[])
                .expect("valid")
                .clean_gateway,
            None
        );
        let spider = ann(&[(
            SPIDER_POOLS,
            r#"[{"interface":"eth0","ipv4":["a"],"cleangateway":false},{"interface":"net1","ipv4":["b"],"cleangateway":true}]"#,
        )]);
        assert_eq!(
            pools_for(&spider, &none, "eth0", &[])
                .expect("valid")
                .clean_gateway,
            Some(false)
        );
        assert_eq!(
            pools_for(&spider, &none, "net1", &[])
                .expect("valid")
                .clean_gateway,
            Some(true)
        );
        // Other sources carry none.
        let single = ann(&[(SPIDER_POOL, r#"{"ipv4":["a"]}"#)]);
        assert_eq!(
            pools_for(&single, &none, "eth0", &[])
                .expect("valid")
                .clean_gateway,
            None
        );
    }

    #[test]
    fn malformed_annotations_are_errors_naming_the_key() {
        let none = Annotations::new();
        for (key, value) in [
            (BERTH_POOLS, "not json"),
            (BERTH_POOLS, r#"[{"interface":"eth0","pools":[]}]"#),
            (BERTH_POOL, " , "),
            (SPIDER_POOL, r#"{"ipv4": "a"}"#),
            (BERTH_POOL, "a/b"),
            (
                BERTH_POOLS,
                r#"[{"interface":"eth0","pools":["a"],"cleanGateway":"yes"}]"#,
            ),
        ] {
            let err = pools_for(&ann(&[(key, value)]), &none, "eth0", &[]).expect_err(value);
            assert_eq!(err.key, key);
        }
    }
}
