//! The CNI result of an ADD, in the shape of the request's cniVersion.
//!
//! An IPAM plugin's result has no `interfaces` and its `ips[]` carry no
//! `interface` index: the main plugin that delegates to it fills those in.
//! Results before 1.0.0 tag each address with its family (`"version"`).
//!
//! The daemon's answer arrives typed (addresses and networks, so a
//! malformed one is a protocol error at decode) and is checked for what
//! types cannot say before it is printed: a gateway of another family than
//! what it serves would otherwise surface as a confusing failure in the
//! main plugin, far from its cause.

use crate::version::CniVersion;
use berth_proto::AddResult;
use ipnet::IpNet;
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
    address: &'a IpNet,
    #[serde(skip_serializing_if = "Option::is_none")]
    gateway: Option<&'a IpAddr>,
}

#[derive(Serialize)]
struct CniRoute<'a> {
    dst: &'a IpNet,
    #[serde(skip_serializing_if = "Option::is_none")]
    gw: Option<&'a IpAddr>,
}

/// The pools' DNS settings; with none, the empty object the spec's
/// examples and host-local print.
#[derive(Serialize)]
struct CniDns<'a> {
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    nameservers: &'a [IpAddr],
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
    for ip in &result.ips {
        let addr = ip.address.addr();
        if let Some(gateway) = &ip.gateway {
            same_family("gateway", *gateway, addr)?;
        }
        let family = if addr.is_ipv4() { "4" } else { "6" };
        out.ips.push(CniIp {
            version: version.ips_carry_family().then_some(family),
            address: &ip.address,
            gateway: ip.gateway.as_ref(),
        });
    }
    for route in &result.routes {
        if let Some(gw) = &route.gw {
            same_family("route gateway", *gw, route.dst.addr())?;
        }
        out.routes.push(CniRoute {
            dst: &route.dst,
            gw: route.gw.as_ref(),
        });
    }
    // Serialising strings and addresses cannot fail.
    Ok(serde_json::to_string(&out).unwrap_or_default())
}

/// A gateway must be an address of the same family as what it serves.
fn same_family(field: &'static str, ip: IpAddr, served: IpAddr) -> Result<(), ResultError> {
    if served.is_ipv4() == ip.is_ipv4() {
        Ok(())
    } else {
        Err(ResultError::Invalid {
            field,
            value: ip.to_string(),
            reason: "wrong address family".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_proto::{IpConfig, Route};
    use serde_json::{json, Value};

    fn net(text: &str) -> IpNet {
        text.parse().expect("cidr")
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    fn dual_stack() -> AddResult {
        AddResult {
            ips: vec![
                IpConfig {
                    address: net("10.6.168.101/16"),
                    gateway: Some(ip("10.6.0.1")),
                    pool: "test-ippool".into(),
                },
                IpConfig {
                    address: net("fd00::65/64"),
                    gateway: None,
                    pool: "v6".into(),
                },
            ],
            routes: vec![Route {
                dst: net("0.0.0.0/0"),
                gw: Some(ip("10.6.0.1")),
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
            nameservers: vec![ip("10.6.0.53"), ip("fd00::53")],
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
        bad.ips[1].gateway = Some(ip("10.6.0.1"));
        assert!(render_add(CniVersion::V1_0_0, &bad).is_err());
        let mut bad = dual_stack();
        bad.routes[0].gw = Some(ip("fd00::1"));
        assert!(render_add(CniVersion::V1_0_0, &bad).is_err());
        // What types cannot hold is refused when the answer is decoded.
        for answer in [
            r#"{"ips":[{"address":"10.6.168.101","gateway":null,"pool":"p"}],"routes":[]}"#,
            r#"{"ips":[],"routes":[{"dst":"default","gw":null}]}"#,
            r#"{"ips":[],"routes":[],"dns":{"nameservers":["dns.example"]}}"#,
        ] {
            assert!(
                serde_json::from_str::<AddResult>(answer).is_err(),
                "{answer}"
            );
        }
    }
}
