//! Pod annotations about what the pod's interfaces get besides their
//! addresses (see `berth_core::pod_network`).
//!
//! | key | value |
//! |---|---|
//! | `berth.io/cleangateway` | `"true"` or `"false"`: no default route via the pools' gateways (every interface) |
//! | `ipam.spidernet.io/cleangateway` | the same; Spiderpool itself spells it as the `cleangateway` field of an `ipam.spidernet.io/ippools` entry, which Berth reads too (`annotations.rs`) |
//! | `berth.io/routes` | `[{"dst":"10.0.0.0/16","gw":"10.6.0.1"}]`: routes for the interface whose subnet holds `gw` |
//! | `ipam.spidernet.io/routes` | the same (Spiderpool's format); both keys may be set, Berth's routes come first |
//!
//! Each route's `dst` is a CIDR without host bits and its `gw` a unicast
//! address of the same family (`berth_core::pod_network::parse_pod_route`);
//! two routes to one destination through different next hops cannot both
//! be installed, so they are refused here rather than by the main plugin
//! after the address was taken. Which interface a route belongs to, and
//! whether any pool can reach its `gw`, is decided with the pools
//! (`berth_core::pod_network::compose`).
//!
//! Precedence of `cleanGateway`, most specific first: the `ippools` entry
//! naming the interface's pools, these pod annotations, the CNI config's
//! `ipam.cleanGateway`, the pool's `cleanGateway` (as Spiderpool: pod
//! over CNI config; the pool setting is Berth's).

use crate::annotation_values::{parse_json, AnnotationError};
use berth_core::limits::POD_ROUTES_MAX;
use berth_core::pod_network::parse_pod_route;
use berth_core::Route;
use serde::Deserialize;
use std::collections::BTreeMap;

pub const BERTH_CLEAN_GATEWAY: &str = "berth.io/cleangateway";
pub const SPIDER_CLEAN_GATEWAY: &str = "ipam.spidernet.io/cleangateway";
pub const BERTH_ROUTES: &str = "berth.io/routes";
pub const SPIDER_ROUTES: &str = "ipam.spidernet.io/routes";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteEntry {
    dst: String,
    gw: String,
}

type Annotations = BTreeMap<String, String>;

/// The pod-wide `cleanGateway`, when an annotation sets it. The two keys
/// must agree when both are present: picking one would ignore the other.
pub fn clean_gateway(pod: &Annotations) -> Result<Option<bool>, AnnotationError> {
    let read = |key: &str| -> Result<Option<bool>, AnnotationError> {
        pod.get(key)
            .map(|value| match value.trim().to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(AnnotationError {
                    key: key.to_owned(),
                    problem: format!("{value:?} is neither \"true\" nor \"false\""),
                }),
            })
            .transpose()
    };
    let berth = read(BERTH_CLEAN_GATEWAY)?;
    let spider = read(SPIDER_CLEAN_GATEWAY)?;
    match (berth, spider) {
        (Some(a), Some(b)) if a != b => Err(AnnotationError {
            key: BERTH_CLEAN_GATEWAY.to_owned(),
            problem: format!("says {a} but {SPIDER_CLEAN_GATEWAY} says {b}"),
        }),
        (a, b) => Ok(a.or(b)),
    }
}

/// The pod's own routes, in order, without repeats.
pub fn routes(pod: &Annotations) -> Result<Vec<Route>, AnnotationError> {
    let mut out: Vec<Route> = Vec::new();
    for key in [BERTH_ROUTES, SPIDER_ROUTES] {
        let Some(value) = pod.get(key) else {
            continue;
        };
        let problem = |problem: String| AnnotationError {
            key: key.to_owned(),
            problem,
        };
        let entries: Vec<RouteEntry> = parse_json(key, value)?;
        for entry in entries {
            let route = parse_pod_route(&entry.dst, &entry.gw).map_err(problem)?;
            match out.iter().find(|r| r.dst == route.dst) {
                Some(same) if same == &route => continue,
                Some(other) => {
                    return Err(problem(format!(
                        "two routes to {} (via {} and via {})",
                        route.dst,
                        other.gw.map(|g| g.to_string()).unwrap_or_default(),
                        entry.gw.trim()
                    )))
                }
                None => out.push(route),
            }
            if out.len() > POD_ROUTES_MAX {
                return Err(problem(format!("more than {POD_ROUTES_MAX} routes")));
            }
        }
    }
    Ok(out)
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
    fn clean_gateway_reads_either_key() {
        assert_eq!(clean_gateway(&Annotations::new()), Ok(None));
        assert_eq!(
            clean_gateway(&ann(&[(BERTH_CLEAN_GATEWAY, "true")])),
            Ok(Some(true))
        );
        assert_eq!(
            clean_gateway(&ann(&[(SPIDER_CLEAN_GATEWAY, "False")])),
            Ok(Some(false))
        );
        assert_eq!(
            clean_gateway(&ann(&[
                (BERTH_CLEAN_GATEWAY, "true"),
                (SPIDER_CLEAN_GATEWAY, "true")
            ])),
            Ok(Some(true))
        );
    }

    #[test]
    fn routes_come_from_both_keys_in_order() {
        let pod = ann(&[
            (
                SPIDER_ROUTES,
                r#"[{"dst":"172.16.0.0/12","gw":"10.6.0.9"},{"dst":"10.0.0.0/16","gw":"10.6.0.1"}]"#,
            ),
            (
                BERTH_ROUTES,
                r#"[{"dst":"10.0.0.0/16","gw":"10.6.0.1"},{"dst":"fd01::/64","gw":"fd00::1"}]"#,
            ),
        ]);
        let got: Vec<String> = routes(&pod)
            .expect("valid")
            .iter()
            .map(|r| {
                format!(
                    "{} via {}",
                    r.dst,
                    r.gw.map(|g| g.to_string()).unwrap_or_default()
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                "10.0.0.0/16 via 10.6.0.1",
                "fd01::/64 via fd00::1",
                "172.16.0.0/12 via 10.6.0.9"
            ]
        );
        assert!(routes(&Annotations::new()).expect("none").is_empty());
    }

    #[test]
    fn bad_routes_are_errors_naming_the_key() {
        for (key, value) in [
            (BERTH_ROUTES, "not json"),
            (BERTH_ROUTES, r#"{"dst":"10.0.0.0/16","gw":"10.6.0.1"}"#),
            (SPIDER_ROUTES, r#"[{"dst":"10.0.0.0/16"}]"#),
            (
                SPIDER_ROUTES,
                r#"[{"dst":"10.0.0.0/16","gw":"10.6.0.1","interface":"eth0"}]"#,
            ),
            (SPIDER_ROUTES, r#"[{"dst":"10.0.0.1/16","gw":"10.6.0.1"}]"#),
            (BERTH_ROUTES, r#"[{"dst":"10.0.0.0/16","gw":"fd00::1"}]"#),
            (
                BERTH_ROUTES,
                r#"[{"dst":"10.0.0.0/16","gw":"10.6.0.1"},{"dst":"10.0.0.0/16","gw":"10.6.0.2"}]"#,
            ),
        ] {
            let err = routes(&ann(&[(key, value)])).expect_err(value);
            assert_eq!(err.key, key, "{value}: {err}");
        }
        let many: Vec<String> = (0..=POD_ROUTES_MAX)
            .map(|i| {
                format!(
                    r#"{{"dst":"10.{}.{}.0/24","gw":"10.6.0.1"}}"#,
                    i / 256,
                    i % 256
                )
            })
            .collect();
        let too_many = format!("[{}]", many.join(","));
        assert!(routes(&ann(&[(BERTH_ROUTES, too_many.as_str())])).is_err());
    }

    #[test]
    fn clean_gateway_refuses_junk_and_disagreement() {
        let err = clean_gateway(&ann(&[(SPIDER_CLEAN_GATEWAY, "yes")])).expect_err("junk");
        assert_eq!(err.key, SPIDER_CLEAN_GATEWAY);
        let err = clean_gateway(&ann(&[
            (BERTH_CLEAN_GATEWAY, "true"),
            (SPIDER_CLEAN_GATEWAY, "false"),
        ]))
        .expect_err("disagree");
        assert_eq!(err.key, BERTH_CLEAN_GATEWAY);
    }
}
