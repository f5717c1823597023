use super::*;
use serde_json::json;

fn doc(value: Value) -> Document {
    Document::parse(value.to_string().as_bytes()).expect("object")
}

fn base() -> Value {
    json!({
        "cniVersion": "1.0.0",
        "name": "macvlan-net",
        "type": "macvlan",
        "master": "eth0",
        "ipam": {"type": "berth"}
    })
}

fn with_ipam(ipam: Value) -> Value {
    let mut conf = base();
    conf["ipam"] = ipam;
    conf
}

#[test]
fn defaults_apply_and_other_plugins_fields_are_allowed() {
    let conf = doc(base()).into_netconf(Verb::Add, None).expect("valid");
    assert_eq!(conf.version, CniVersion::V1_0_0);
    assert_eq!(conf.network, "macvlan-net");
    assert_eq!(
        conf.ipam,
        IpamConfig {
            socket: PathBuf::from(berth_proto::DEFAULT_SOCKET_PATH),
            pools: vec![],
            timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
            clean_gateway: None,
        }
    );
}

#[test]
fn ipam_fields_are_read() {
    let value = with_ipam(json!({
        "type": "berth",
        "socket": "/tmp/b.sock",
        "pools": ["test-ippool", "v6"],
        "timeoutMs": 250,
        "cleanGateway": true
    }));
    let conf = doc(value)
        .into_netconf(Verb::Add, Some("/ignored.sock"))
        .expect("valid");
    assert_eq!(conf.ipam.socket, PathBuf::from("/tmp/b.sock"));
    assert_eq!(conf.ipam.pools, vec!["test-ippool", "v6"]);
    assert_eq!(conf.ipam.timeout, Duration::from_millis(250));
    assert_eq!(conf.ipam.clean_gateway, Some(true));
}

#[test]
fn berth_socket_applies_only_when_the_config_names_none() {
    let conf = doc(base())
        .into_netconf(Verb::Del, Some("/tmp/env.sock"))
        .expect("valid");
    assert_eq!(conf.ipam.socket, PathBuf::from("/tmp/env.sock"));
    let err = doc(base())
        .into_netconf(Verb::Del, Some("relative.sock"))
        .expect_err("relative");
    assert!(err.to_string().contains("BERTH_SOCKET"), "{err}");
}

#[test]
fn unknown_ipam_field_is_refused_by_name() {
    let value = with_ipam(json!({"type": "berth", "pool": "test-ippool"}));
    let err = doc(value)
        .into_netconf(Verb::Add, None)
        .expect_err("unknown");
    assert!(matches!(err, ConfigError::Invalid { ref field, .. } if field == "ipam"));
    assert!(err.to_string().contains("unknown field `pool`"), "{err}");
}

#[test]
fn bad_ipam_values_are_refused() {
    for ipam in [
        json!({"socket": "run/berth.sock"}),
        json!({"socket": format!("/{}", "x".repeat(200))}),
        json!({"pools": [""]}),
        json!({"pools": "test-ippool"}),
        json!({"timeoutMs": 0}),
        json!({"timeoutMs": -5}),
        json!({"timeoutMs": 600_001}),
        json!("berth"),
    ] {
        let result = doc(with_ipam(ipam.clone())).into_netconf(Verb::Add, None);
        assert!(
            matches!(result, Err(ConfigError::Invalid { .. })),
            "{ipam}: {result:?}"
        );
    }
}

#[test]
fn name_and_ipam_are_required_and_name_is_checked() {
    for (key, value) in [
        ("name", Value::Null),
        ("name", json!("")),
        ("name", json!("bad name")),
        ("name", json!(7)),
        ("ipam", Value::Null),
    ] {
        let mut conf = base();
        conf[key] = value.clone();
        let result = doc(conf).into_netconf(Verb::Add, None);
        assert!(
            matches!(result, Err(ConfigError::Invalid { .. })),
            "{key}={value}: {result:?}"
        );
    }
}

#[test]
fn version_is_required_supported_and_must_allow_the_verb() {
    let mut conf = base();
    conf["cniVersion"] = Value::Null;
    assert!(matches!(
        doc(conf).version_for(Verb::Add),
        Err(ConfigError::NoVersion)
    ));
    let mut conf = base();
    conf["cniVersion"] = json!("0.2.0");
    assert!(matches!(
        doc(conf).version_for(Verb::Add),
        Err(ConfigError::Unsupported(_))
    ));
    let mut conf = base();
    conf["cniVersion"] = json!("0.3.1");
    assert!(matches!(
        doc(conf).version_for(Verb::Check),
        Err(ConfigError::VerbTooNew { needs: "0.4.0", .. })
    ));
    assert!(matches!(
        doc(base()).version_for(Verb::Gc),
        Err(ConfigError::VerbTooNew { needs: "1.1.0", .. })
    ));
}

#[test]
fn syntax_errors_are_decode_failures() {
    for bad in [&b"{"[..], b"[]", b"", b"null", b"\"x\""] {
        assert!(
            matches!(Document::parse(bad), Err(ConfigError::Decode(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn oversized_stdin_is_refused_unread() {
    let big = vec![b' '; (MAX_STDIN_BYTES + 10) as usize];
    assert!(matches!(
        Document::read(big.as_slice()),
        Err(ConfigError::TooLarge)
    ));
}

#[test]
fn per_verb_inputs_are_read_only_for_their_verb() {
    // DEL must not fail over a requested address or prevResult it ignores.
    let mut conf = base();
    conf["args"] = json!({"cni": {"ips": ["not-an-ip"]}});
    conf["prevResult"] = json!({"ips": "garbage"});
    let del = doc(conf.clone())
        .into_netconf(Verb::Del, None)
        .expect("del ignores them");
    assert!(del.requested_ips.is_empty());
    assert!(doc(conf).into_netconf(Verb::Add, None).is_err());
}
