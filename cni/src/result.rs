//! The CNI result of an ADD, in the shape of the request's cniVersion.
//!
//! An IPAM plugin's result has no `interfaces` and its `ips[]` carry no
//! `interface` index: the main plugin that delegates to it fills those in.
//! Results before 1.0.0 tag each address with its family (`"version"`).
//!
//! The daemon's answer is checked before it is printed: a malformed
//! address would otherwise surface as a confusing failure in the main
//! plugin, far from its cause.

use crate::ips;
use crate::version::CniVersion;
use berth_proto::AddResult;
use serde::Serialize;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResultError {
    #[error("berthd answered ADD without any address")]
    NoAddress,
    #[error("berthd answered ADD with an invalid {field} {value:?}: {reason}")]
    Invalid {
        field: &'static str,
        value: String,
        reason: String,
    },
}

#[derive(Serialize)]
struct CniResult<'a> {
    #[serde(rename = "cniVersion")]
    cni_version: &'static str,
    ips: Vec<CniIp<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    routes: Vec<CniRoute<'a>>,
    dns: CniDns<'a>,
}

#[derive(Serialize)]
struct CniIp<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'static str>,
    address: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    gateway: Option<&'a str>,
}

#[derive(Serialize)]
struct CniRoute<'a> {
    dst: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    gw: Option<&'a str>,
}

/// The pools' DNS settings; with none, the empty object the spec's
/// examples and host-local print.
#[derive(Serialize)]
struct CniDns<'a> {
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    nameservers: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    search: &'a [String],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    options: &'a [String],
}

/// Renders the result JSON for `version`.
pub fn render_add(version: CniVersion, result: &AddResult) -> Result<String, ResultError> {
    if result.ips.is_empty() {
        return Err(ResultError::NoAddress);
    }
    let mut out = CniResult {
        cni_version: version.as_str(),
        ips: Vec::with_capacity(result.ips.len()),
        routes: Vec::with_capacity(result.routes.len()),
        dns: CniDns {
            nameservers: &result.dns.nameservers,
            domain: result.dns.domain.as_deref(),
            search: &result.dns.search,
            options: &result.dns.options,
        },
    };
    for server in &result.dns.nameservers {
        server.parse::<IpAddr>().map_err(|_| ResultError::Invalid {
            field: "DNS nameserver",
            value: server.clone(),
            reason: "not an IP address".into(),
        })?;
    }
    for ip in &result.ips {
        let (addr, _) = ips::parse_cidr(&ip.address).map_err(|reason| ResultError::Invalid {
            field: "address",
            value: ip.address.clone(),
            reason,
        })?;
        if let Some(gateway) = &ip.gateway {
            check_ip("gateway", gateway, addr)?;
        }
        let family = if addr.is_ipv4() { "4" } else { "6" };
        out.ips.push(CniIp {
            version: version.ips_carry_family().then_some(family),
            address: &ip.address,
            gateway: ip.gateway.as_deref(),
        });
    }
    for route in &result.routes {
        let (dst, _) = ips::parse_cidr(&route.dst).map_err(|reason| ResultError::Invalid {
            field: "route destination",
            value: route.dst.clone(),
            reason,
        })?;
        if let Some(gw) = &route.gw {
            check_ip("route gateway", gw, dst)?;
        }
        out.routes.push(CniRoute {
            dst: &route.dst,
            gw: route.gw.as_deref(),
        });
    }
    // Serialising plain strings cannot fail.
    Ok(serde_json::to_string(&out).unwrap_or_default())
}

/// A gateway must be an address of the same family as what it serves.
fn check_ip(field: &'static str, text: &str, served: IpAddr) -> Result<(), ResultError> {
    let invalid = |reason: &str| ResultError::Invalid {
        field,
        value: text.into(),
        reason: reason.into(),
    };
    let ip: IpAddr = text.parse().map_err(|_| invalid("not an IP address"))?;
    if served.is_ipv4() == ip.is_ipv4() {
        Ok(())
    } else {
        Err(invalid("wrong address family"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_proto::{IpConfig, Route};
    use serde_json::{json, Value};

    fn dual_stack() -> AddResult {
        AddResult {
            ips: vec![
                IpConfig {
                    address: "10.6.168.101/16".into(),
                    gateway: Some("10.6.0.1".into()),
                    pool: "test-ippool".into(),
                },
                IpConfig {
                    address: "fd00::65/64".into(),
                    gateway: None,
                    pool: "v6".into(),
                },
            ],
            routes: vec![Route {
                dst: "0.0.0.0/0".into(),
                gw: Some("10.6.0.1".into()),
            }],
            dns: berth_proto::Dns::default(),
        }
    }

    fn render(version: CniVersion, result: &AddResult) -> Value {
        serde_json::from_str(&render_add(version, result).expect("render")).expect("json")
    }

    #[test]
    fn before_1_0_0_each_ip_carries_its_family() {
        for version in [CniVersion::V0_3_0, CniVersion::V0_3_1, CniVersion::V0_4_0] {
            assert_eq!(
                render(version, &dual_stack()),
                json!({
                    "cniVersion": version.as_str(),
                    "ips": [
                        {"version": "4", "address": "10.6.168.101/16", "gateway": "10.6.0.1"},
                        {"version": "6", "address": "fd00::65/64"}
                    ],
                    "routes": [{"dst": "0.0.0.0/0", "gw": "10.6.0.1"}],
                    "dns": {}
                })
            );
        }
    }

    #[test]
    fn from_1_0_0_ips_have_no_family_and_no_interface() {
        for version in [CniVersion::V1_0_0, CniVersion::V1_1_0] {
            assert_eq!(
                render(version, &dual_stack()),
                json!({
                    "cniVersion": version.as_str(),
                    "ips": [
                        {"address": "10.6.168.101/16", "gateway": "10.6.0.1"},
                        {"address": "fd00::65/64"}
                    ],
                    "routes": [{"dst": "0.0.0.0/0", "gw": "10.6.0.1"}],
                    "dns": {}
                })
            );
        }
    }

    #[test]
    fn empty_routes_are_omitted() {
        let mut result = dual_stack();
        result.routes.clear();
        assert!(render(CniVersion::V1_0_0, &result).get("routes").is_none());
    }

    #[test]
    fn the_pools_dns_settings_fill_the_dns_object() {
        let mut result = dual_stack();
        result.dns = berth_proto::Dns {
            nameservers: vec!["10.6.0.53".into(), "fd00::53".into()],
            domain: Some("example.internal".into()),
            search: vec!["svc.example.internal".into()],
            options: vec!["ndots:2".into()],
        };
        for version in [CniVersion::V0_3_1, CniVersion::V1_0_0] {
            assert_eq!(
                render(version, &result)["dns"],
                json!({
                    "nameservers": ["10.6.0.53", "fd00::53"],
                    "domain": "example.internal",
                    "search": ["svc.example.internal"],
                    "options": ["ndots:2"]
                })
            );
        }
        result.dns.domain = None;
        result.dns.options.clear();
        assert_eq!(
            render(CniVersion::V1_0_0, &result)["dns"],
            json!({ "nameservers": ["10.6.0.53", "fd00::53"], "search": ["svc.example.internal"] })
        );
    }

    #[test]
    fn malformed_daemon_answers_are_refused() {
        assert_eq!(
            render_add(CniVersion::V1_0_0, &AddResult::default()),
            Err(ResultError::NoAddress)
        );
        let mut bad = dual_stack();
        bad.ips[0].address = "10.6.168.101".into();
        assert!(render_add(CniVersion::V1_0_0, &bad).is_err());
        let mut bad = dual_stack();
        bad.ips[1].gateway = Some("10.6.0.1".into());
        assert!(render_add(CniVersion::V1_0_0, &bad).is_err());
        let mut bad = dual_stack();
        bad.routes[0].dst = "default".into();
        assert!(render_add(CniVersion::V1_0_0, &bad).is_err());
        let mut bad = dual_stack();
        bad.dns.nameservers = vec!["dns.example".into()];
        assert!(render_add(CniVersion::V1_0_0, &bad).is_err());
    }
}
