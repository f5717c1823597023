//! The per-verb parts of the network configuration: requested addresses
//! (ADD), the previous result (CHECK) and the still-valid attachments (GC).

use crate::config_error::{take, ConfigError};
use crate::ips;
use berth_proto::Attachment;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::net::IpAddr;

#[derive(Deserialize)]
struct RawIps {
    ips: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawArgs {
    cni: Option<RawIps>,
}

#[derive(Deserialize)]
struct RawPrevResult {
    ips: Option<Vec<RawPrevIp>>,
}

#[derive(Deserialize)]
struct RawPrevIp {
    address: String,
}

#[derive(Deserialize)]
struct RawAttachment {
    #[serde(rename = "containerID")]
    container_id: String,
    ifname: String,
}

/// `runtimeConfig.ips` (the `ips` capability) then `args.cni.ips` (the
/// conventions document), prefixes stripped, duplicates dropped.
pub fn requested_ips(fields: &mut Map<String, Value>) -> Result<Vec<IpAddr>, ConfigError> {
    let from_runtime = take::<RawIps>(fields, "runtimeConfig")?.and_then(|r| r.ips);
    let from_args = take::<RawArgs>(fields, "args")?
        .and_then(|a| a.cni)
        .and_then(|c| c.ips);
    let mut out = Vec::new();
    for (field, list) in [
        ("runtimeConfig.ips", from_runtime),
        ("args.cni.ips", from_args),
    ] {
        for text in list.unwrap_or_default() {
            let addr = ips::parse_requested(&text)
                .map_err(|reason| ConfigError::invalid(field, format!("{text:?} {reason}")))?;
            out.push(addr);
        }
    }
    Ok(ips::dedup(out))
}

/// The addresses of `prevResult`, which CHECK compares with the daemon's
/// record. Required: without it there is nothing to check.
pub fn prev_addresses(fields: &mut Map<String, Value>) -> Result<Vec<String>, ConfigError> {
    let prev = take::<RawPrevResult>(fields, "prevResult")?.ok_or_else(|| {
        ConfigError::invalid(
            "prevResult",
            "is missing; CHECK compares it with berthd's record",
        )
    })?;
    let addresses: Vec<String> = prev
        .ips
        .unwrap_or_default()
        .into_iter()
        .map(|ip| ip.address)
        .collect();
    if addresses.is_empty() {
        return Err(ConfigError::invalid(
            "prevResult.ips",
            "is empty; a berth ADD always returns at least one address",
        ));
    }
    for address in &addresses {
        ips::parse_cidr(address).map_err(|reason| {
            ConfigError::invalid("prevResult.ips.address", format!("{address:?} {reason}"))
        })?;
    }
    Ok(addresses)
}

/// GC's list of attachments to keep: `cni.dev/valid-attachments`, or the
/// older `cni.dev/attachments` from draft runtimes. Having neither is an
/// error rather than an empty list, because an empty list tells the daemon
/// to release every address of the network.
pub fn valid_attachments(fields: &mut Map<String, Value>) -> Result<Vec<Attachment>, ConfigError> {
    let current = take::<Vec<RawAttachment>>(fields, "cni.dev/valid-attachments")?;
    let older = take::<Vec<RawAttachment>>(fields, "cni.dev/attachments")?;
    let list = current.or(older).ok_or_else(|| {
        ConfigError::invalid(
            "cni.dev/valid-attachments",
            "is missing; GC without it would release every address of the network",
        )
    })?;
    // Identifiers are passed on as given: the daemon compares them with
    // what ADD recorded, and refusing an odd entry would block all GC.
    Ok(list
        .into_iter()
        .map(|a| Attachment {
            container_id: a.container_id,
            ifname: a.ifname,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn requested_ips_come_from_both_sources_without_prefix_or_duplicates() {
        let mut f = fields(json!({
            "runtimeConfig": {"ips": ["10.1.2.11/24", "fd00::b"], "portMappings": []},
            "args": {"cni": {"ips": ["10.1.2.11", "10.1.2.12/24"], "labels": []}}
        }));
        let ips: Vec<String> = requested_ips(&mut f)
            .expect("ips")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(ips, vec!["10.1.2.11", "fd00::b", "10.1.2.12"]);
    }

    #[test]
    fn bad_requested_ip_names_its_field() {
        let mut f = fields(json!({"args": {"cni": {"ips": ["10.1.2.300"]}}}));
        let err = requested_ips(&mut f).expect_err("bad ip");
        assert!(err.to_string().contains("args.cni.ips"), "{err}");
        let mut f = fields(json!({"runtimeConfig": {"ips": "10.1.2.3"}}));
        let err = requested_ips(&mut f).expect_err("not a list");
        assert!(err.to_string().contains("runtimeConfig"), "{err}");
    }

    #[test]
    fn no_requested_ips_is_fine() {
        assert!(requested_ips(&mut Map::new()).expect("none").is_empty());
    }

    #[test]
    fn prev_result_addresses_are_required_and_validated() {
        let mut f = fields(json!({"prevResult": {
            "cniVersion": "1.0.0",
            "interfaces": [{"name": "eth0"}],
            "ips": [{"address": "10.6.168.101/16", "gateway": "10.6.0.1", "interface": 0}]
        }}));
        assert_eq!(prev_addresses(&mut f).expect("ok"), vec!["10.6.168.101/16"]);
        assert!(prev_addresses(&mut Map::new()).is_err());
        let mut f = fields(json!({"prevResult": {"ips": []}}));
        assert!(prev_addresses(&mut f).is_err());
        let mut f = fields(json!({"prevResult": {"ips": [{"address": "10.6.168.101"}]}}));
        assert!(prev_addresses(&mut f).is_err());
    }

    #[test]
    fn gc_prefers_valid_attachments_and_falls_back_to_the_older_key() {
        let a = json!([{"containerID": "c1", "ifname": "eth0"}]);
        let b = json!([{"containerID": "c2", "ifname": "net1"}]);
        let mut both = fields(json!({"cni.dev/valid-attachments": a, "cni.dev/attachments": b}));
        assert_eq!(
            valid_attachments(&mut both).expect("ok")[0].container_id,
            "c1"
        );
        let mut older = fields(json!({"cni.dev/attachments": b}));
        assert_eq!(valid_attachments(&mut older).expect("ok")[0].ifname, "net1");
        let mut empty = fields(json!({"cni.dev/valid-attachments": []}));
        assert!(valid_attachments(&mut empty).expect("ok").is_empty());
        assert!(valid_attachments(&mut Map::new()).is_err());
        let mut bad = fields(json!({"cni.dev/valid-attachments": [{"ifname": "eth0"}]}));
        assert!(valid_attachments(&mut bad).is_err());
    }
}
