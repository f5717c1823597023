//! A SpiderIPPool as a BerthPool: what carries over field by field, and
//! what has no equivalent (reported, never dropped silently).

use super::spider::{LabelSelector, SpiderIPPool};
use berth_core::pool::{PoolSpec, RouteSpec};
use kube::ResourceExt;
use std::collections::BTreeMap;

/// The BerthPool spec for `pool` (named as it is, so Spiderpool's pod and
/// namespace annotations, which berthd reads, keep naming it), or `None`
/// when it must not become a usable pool; and every setting that did not
/// carry over.
pub fn berth_spec(pool: &SpiderIPPool) -> (Option<PoolSpec>, Vec<String>) {
    let s = &pool.spec;
    let mut lost = Vec::new();
    if s.ips.is_empty() {
        lost.push(
            "has no ips: Berth reads an empty ips list as the whole subnet, so the pool is \
             not migrated"
                .to_owned(),
        );
        return (None, lost);
    }
    let node_selector = match_labels("nodeAffinity", s.node_affinity.as_ref(), &mut lost);
    let namespace_selector = match_labels(
        "namespaceAffinity",
        s.namespace_affinity.as_ref(),
        &mut lost,
    );
    if s.pod_affinity.is_some() {
        lost.push("podAffinity has no equivalent (any pod naming the pool may use it)".to_owned());
    }
    if !s.node_name.is_empty() {
        lost.push(format!(
            "nodeName {:?} has no equivalent (use nodeSelector labels)",
            s.node_name
        ));
    }
    if !s.namespace_name.is_empty() {
        lost.push(format!(
            "namespaceName {:?} has no equivalent (use namespaceSelector labels)",
            s.namespace_name
        ));
    }
    if !s.multus_name.is_empty() {
        lost.push(format!(
            "multusName {:?} has no equivalent (the CNI config or the pod names the pool)",
            s.multus_name
        ));
    }
    if s.vlan.is_some_and(|v| v != 0) {
        lost.push("vlan (deprecated in Spiderpool) has no equivalent".to_owned());
    }
    let spec = PoolSpec {
        name: pool.name_any(),
        subnet: s.subnet.clone(),
        ips: s.ips.clone(),
        exclude_ips: s.exclude_ips.clone(),
        gateway: s.gateway.clone(),
        routes: s
            .routes
            .iter()
            .map(|r| RouteSpec {
                dst: r.dst.clone(),
                gw: Some(r.gw.clone()),
            })
            .collect(),
        default: s.default.unwrap_or(false),
        namespace_selector,
        node_selector,
        // Spiderpool's pools carry neither: its gateway is the pod's
        // default route unless the pod's annotation cleans it, as here.
        clean_gateway: false,
        dns: Default::default(),
        // A disabled SpiderIPPool stays disabled: it keeps what it holds
        // and hands out nothing new, as in Spiderpool.
        disable: s.disable.unwrap_or(false),
    };
    (Some(spec), lost)
}

/// A label selector's `matchLabels` (Berth's selectors are label maps);
/// its `matchExpressions` have no equivalent.
fn match_labels(
    field: &str,
    selector: Option<&LabelSelector>,
    lost: &mut Vec<String>,
) -> BTreeMap<String, String> {
    let Some(selector) = selector else {
        return BTreeMap::new();
    };
    if selector
        .match_expressions
        .as_ref()
        .is_some_and(|e| !e.is_empty())
    {
        lost.push(format!(
            "{field}.matchExpressions have no equivalent (only matchLabels carry over)"
        ));
    }
    selector.match_labels.clone().unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::spider::LabelSelectorRequirement;
    use super::super::spider::{IPPoolSpec, SpiderRoute};
    use super::*;

    fn pool(spec: IPPoolSpec) -> SpiderIPPool {
        SpiderIPPool::new("p", spec)
    }

    #[test]
    fn fields_with_an_equivalent_carry_over() {
        let (spec, lost) = berth_spec(&pool(IPPoolSpec {
            ip_version: Some(4),
            subnet: "10.6.0.0/16".into(),
            ips: vec!["10.6.168.101-10.6.168.110".into()],
            exclude_ips: vec!["10.6.168.105".into()],
            gateway: Some("10.6.0.1".into()),
            routes: vec![SpiderRoute {
                dst: "10.7.0.0/16".into(),
                gw: "10.6.0.254".into(),
            }],
            node_affinity: Some(LabelSelector {
                match_labels: Some([("zone".to_owned(), "a".to_owned())].into()),
                ..LabelSelector::default()
            }),
            default: Some(true),
            ..IPPoolSpec::default()
        }));
        let spec = spec.unwrap();
        assert!(lost.is_empty(), "{lost:?}");
        assert_eq!(spec.exclude_ips, ["10.6.168.105"]);
        assert_eq!(spec.routes[0].gw.as_deref(), Some("10.6.0.254"));
        assert_eq!(spec.node_selector["zone"], "a");
        assert!(spec.default);
        berth_core::Pool::from_spec(&spec).unwrap();
    }

    #[test]
    fn what_has_no_equivalent_is_reported() {
        let (spec, lost) = berth_spec(&pool(IPPoolSpec {
            subnet: "10.6.0.0/16".into(),
            ips: vec!["10.6.168.101".into()],
            pod_affinity: Some(LabelSelector::default()),
            node_name: vec!["n1".into()],
            namespace_name: vec!["ns".into()],
            multus_name: vec!["kube-system/macvlan".into()],
            vlan: Some(7),
            namespace_affinity: Some(LabelSelector {
                match_expressions: Some(vec![LabelSelectorRequirement {
                    key: "team".into(),
                    operator: "In".into(),
                    values: Some(vec!["a".into()]),
                }]),
                ..LabelSelector::default()
            }),
            ..IPPoolSpec::default()
        }));
        assert!(spec.is_some());
        let text = lost.join("\n");
        for field in [
            "podAffinity",
            "nodeName",
            "namespaceName",
            "multusName",
            "vlan",
            "namespaceAffinity.matchExpressions",
        ] {
            assert!(text.contains(field), "{field} not reported in {text}");
        }
    }

    #[test]
    fn empty_pools_are_not_migrated() {
        let (spec, lost) = berth_spec(&pool(IPPoolSpec {
            subnet: "10.6.0.0/16".into(),
            ..IPPoolSpec::default()
        }));
        assert!(spec.is_none());
        assert_eq!(lost.len(), 1, "{lost:?}");
    }

    #[test]
    fn a_disabled_pool_migrates_disabled() {
        let (spec, lost) = berth_spec(&pool(IPPoolSpec {
            subnet: "10.6.0.0/16".into(),
            ips: vec!["10.6.168.101".into()],
            disable: Some(true),
            ..IPPoolSpec::default()
        }));
        assert!(spec.expect("migrated").disable, "lost: {lost:?}");
        assert!(lost.is_empty(), "{lost:?}");
    }
}
