//! The per-verb parts of the network configuration: requested addresses
//! (ADD), the previous result (CHECK) and the still-valid attachments (GC).

use crate::config_error::{take, ConfigError};
use crate::ips;
use crate::limits::{LABELS_MAX, LABEL_BYTES_MAX};
use berth_proto::{Attachment, Label};
use ipnet::IpNet;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::net::IpAddr;

#[derive(Deserialize)]
struct RawIps {
    ips: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawArgs {
    cni: Option<RawArgsCni>,
}

/// The conventions' `args.cni`: requested `ips` and the pod's `labels`.
#[derive(Deserialize)]
struct RawArgsCni {
    ips: Option<Vec<String>>,
    labels: Option<Vec<RawLabel>>,
}

#[derive(Deserialize)]
struct RawLabel {
    key: String,
    value: String,
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

/// What an ADD reads besides the network: the requested addresses and the
/// pod's labels.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddInputs {
    pub requested_ips: Vec<IpAddr>,
    pub labels: Vec<Label>,
}

/// `runtimeConfig.ips` (the `ips` capability) then `args.cni.ips` (the
/// conventions document), prefixes stripped, duplicates dropped; and the
/// conventions' `args.cni.labels` (`[{"key": .., "value": ..}]`), which
/// reach the policies as the pod's labels in single-host mode.
pub fn add_inputs(fields: &mut Map<String, Value>) -> Result<AddInputs, ConfigError> {
    let from_runtime = take::<RawIps>(fields, "runtimeConfig")?.and_then(|r| r.ips);
    let args = take::<RawArgs>(fields, "args")?.and_then(|a| a.cni);
    let (from_args, labels) = match args {
        Some(cni) => (cni.ips, cni.labels.unwrap_or_default()),
        None => (None, Vec::new()),
    };
    Ok(AddInputs {
        requested_ips: requested(from_runtime, from_args)?,
        labels: checked_labels(labels)?,
    })
}

/// [`add_inputs`]' requested addresses alone.
#[cfg(test)]
fn requested_ips(fields: &mut Map<String, Value>) -> Result<Vec<IpAddr>, ConfigError> {
    add_inputs(fields).map(|inputs| inputs.requested_ips)
}

fn checked_labels(labels: Vec<RawLabel>) -> Result<Vec<Label>, ConfigError> {
    const FIELD: &str = "args.cni.labels";
    if labels.len() > LABELS_MAX {
        return Err(ConfigError::invalid(
            FIELD,
            format!("has {} labels, more than {LABELS_MAX}", labels.len()),
        ));
    }
    let mut out: Vec<Label> = Vec::with_capacity(labels.len());
    for l in labels {
        if l.key.is_empty() || l.key.len() > LABEL_BYTES_MAX || l.value.len() > LABEL_BYTES_MAX {
            return Err(ConfigError::invalid(
                FIELD,
                format!("key {:?}: keys must be 1 to {LABEL_BYTES_MAX} bytes and values at most {LABEL_BYTES_MAX}", l.key),
            ));
        }
        if out.iter().any(|o| o.key == l.key) {
            return Err(ConfigError::invalid(
                FIELD,
                format!("key {:?} appears twice", l.key),
            ));
        }
        out.push(Label {
            key: l.key,
            value: l.value,
        });
    }
    Ok(out)
}

fn requested(
    from_runtime: Option<Vec<String>>,
    from_args: Option<Vec<String>>,
) -> Result<Vec<IpAddr>, ConfigError> {
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
pub fn prev_addresses(fields: &mut Map<String, Value>) -> Result<Vec<IpNet>, ConfigError> {
    let prev = take::<RawPrevResult>(fields, "prevResult")?.ok_or_else(|| {
        ConfigError::invalid(
            "prevResult",
            "is missing; CHECK compares it with berthd's record",
        )
    })?;
    let texts: Vec<String> = prev
        .ips
        .unwrap_or_default()
        .into_iter()
        .map(|ip| ip.address)
        .collect();
    if texts.is_empty() {
        return Err(ConfigError::invalid(
            "prevResult.ips",
            "is empty; a berth ADD always returns at least one address",
        ));
    }
    let mut addresses = Vec::with_capacity(texts.len());
    for text in &texts {
        let invalid = |reason: String| {
            ConfigError::invalid("prevResult.ips.address", format!("{text:?} {reason}"))
        };
        let (addr, prefix) = ips::parse_cidr(text).map_err(invalid)?;
        addresses.push(IpNet::new(addr, prefix).map_err(|e| invalid(e.to_string()))?);
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
    fn labels_come_from_args_cni_and_are_checked() {
        let mut f = fields(json!({
            "args": {"cni": {"labels": [
                {"key": "role", "value": "infra"}, {"key": "tier", "value": ""}
            ], "ips": ["10.1.2.3"]}}
        }));
        let inputs = add_inputs(&mut f).expect("labels");
        let pairs: Vec<(&str, &str)> = inputs
            .labels
            .iter()
            .map(|l| (l.key.as_str(), l.value.as_str()))
            .collect();
        assert_eq!(pairs, [("role", "infra"), ("tier", "")]);
        assert_eq!(inputs.requested_ips.len(), 1);
        assert!(add_inputs(&mut fields(json!({})))
            .expect("none")
            .labels
            .is_empty());
        for bad in [
            json!({"args": {"cni": {"labels": [{"key": "", "value": "x"}]}}}),
            json!({"args": {"cni": {"labels": [{"key": "a", "value": "x"}, {"key": "a", "value": "y"}]}}}),
            json!({"args": {"cni": {"labels": [{"key": "a"}]}}}),
            json!({"args": {"cni": {"labels": {"a": "b"}}}}),
            json!({"args": {"cni": {"labels": [{"key": "v", "value": "x".repeat(2000)}]}}}),
        ] {
            let err = add_inputs(&mut fields(bad.clone())).expect_err("bad labels");
            assert!(err.to_string().contains("args"), "{bad}: {err}");
        }
        let many: Vec<Value> = (0..65)
            .map(|i| json!({"key": format!("k{i}"), "value": ""}))
            .collect();
        assert!(add_inputs(&mut fields(json!({"args": {"cni": {"labels": many}}}))).is_err());
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
        let expected: IpNet = "10.6.168.101/16".parse().expect("cidr");
        assert_eq!(prev_addresses(&mut f).expect("ok"), vec![expected]);
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
