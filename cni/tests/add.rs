//! ADD through the real binary against a fake berthd.

mod common;

use berth_proto::{
    AddRequest, AddResult, ErrorBody, ErrorKind, IpConfig, PodRef, Request, Response, Route,
};
use common::{attachment_env, env_attachment, env_pod, netconf, run_berth, FakeDaemon};
use serde_json::json;

fn allocating_daemon() -> FakeDaemon {
    FakeDaemon::start(|_| {
        Response::Added(AddResult {
            ips: vec![
                IpConfig {
                    address: "10.6.168.101/16".parse().expect("cidr"),
                    gateway: Some("10.6.0.1".parse().expect("ip")),
                    pool: "test-ippool".into(),
                },
                IpConfig {
                    address: "fd00:6::65/64".parse().expect("cidr"),
                    gateway: None,
                    pool: "test-ippool-v6".into(),
                },
            ],
            routes: vec![Route {
                dst: "0.0.0.0/0".parse().expect("cidr"),
                gw: Some("10.6.0.1".parse().expect("ip")),
            }],
            dns: Default::default(),
        })
    })
}

fn add_request(daemon: &FakeDaemon) -> AddRequest {
    match daemon.only_request() {
        Request::Add(add) => add,
        other => panic!("expected ADD, got {other:?}"),
    }
}

#[test]
fn add_result_has_the_shape_of_each_cni_version() {
    for version in ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"] {
        let daemon = allocating_daemon();
        let conf = netconf(version, &daemon.socket);
        let run = run_berth(&attachment_env("ADD"), &conf.to_string());
        assert!(run.success, "{version}: {}", run.stdout);
        let (v4, v6) = if version.starts_with("0.") {
            (
                json!({"version": "4", "address": "10.6.168.101/16", "gateway": "10.6.0.1"}),
                json!({"version": "6", "address": "fd00:6::65/64"}),
            )
        } else {
            (
                json!({"address": "10.6.168.101/16", "gateway": "10.6.0.1"}),
                json!({"address": "fd00:6::65/64"}),
            )
        };
        assert_eq!(
            run.json(),
            json!({
                "cniVersion": version,
                "ips": [v4, v6],
                "routes": [{"dst": "0.0.0.0/0", "gw": "10.6.0.1"}],
                "dns": {}
            }),
            "{version}"
        );
    }
}

#[test]
fn add_sends_attachment_pod_network_and_pools() {
    let daemon = allocating_daemon();
    let run = run_berth(
        &attachment_env("ADD"),
        &netconf("1.0.0", &daemon.socket).to_string(),
    );
    assert!(run.success, "{}", run.stdout);
    assert_eq!(
        add_request(&daemon),
        AddRequest {
            attachment: env_attachment(),
            network: "test-net".into(),
            pod: env_pod(),
            pools: vec!["test-ippool".into()],
            requested_ips: vec![],
            clean_gateway: None,
            labels: Vec::new(),
        }
    );
}

#[test]
fn cni_args_in_any_order_with_unknown_keys() {
    let daemon = allocating_daemon();
    let mut env = attachment_env("ADD");
    env.retain(|(k, _)| *k != "CNI_ARGS");
    env.push((
        "CNI_ARGS",
        "K8S_POD_UID=uid-7;SOME_RUNTIME_KEY=whatever;K8S_POD_NAME=web-1;\
         K8S_POD_NAMESPACE=shop;K8S_POD_INFRA_CONTAINER_ID=c1",
    ));
    let run = run_berth(&env, &netconf("1.1.0", &daemon.socket).to_string());
    assert!(run.success, "{}", run.stdout);
    assert_eq!(
        add_request(&daemon).pod,
        PodRef {
            namespace: "shop".into(),
            name: "web-1".into(),
            uid: "uid-7".into(),
        }
    );
}

#[test]
fn requested_ips_are_forwarded_without_prefix() {
    let daemon = allocating_daemon();
    let mut conf = netconf("1.0.0", &daemon.socket);
    conf["runtimeConfig"] = json!({"ips": ["10.6.168.105/16"], "portMappings": []});
    conf["args"] = json!({"cni": {"ips": ["10.6.168.105", "fd00:6:0:0::66/64"]}});
    let mut env = attachment_env("ADD");
    env.retain(|(k, _)| *k != "CNI_ARGS");
    env.push(("CNI_ARGS", "IgnoreUnknown=1;IP=10.6.168.107"));
    let run = run_berth(&env, &conf.to_string());
    assert!(run.success, "{}", run.stdout);
    assert_eq!(
        add_request(&daemon)
            .requested_ips
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        vec!["10.6.168.105", "fd00:6::66", "10.6.168.107"]
    );
}

#[test]
fn invalid_requested_ip_is_refused_before_asking_the_daemon() {
    let daemon = allocating_daemon();
    let mut conf = netconf("1.0.0", &daemon.socket);
    conf["args"] = json!({"cni": {"ips": ["10.6.168.300"]}});
    let run = run_berth(&attachment_env("ADD"), &conf.to_string());
    let err = run.error(7);
    assert!(
        err["msg"]
            .as_str()
            .is_some_and(|m| m.contains("args.cni.ips")),
        "{err}"
    );
    assert!(daemon.requests().is_empty());
}

#[test]
fn add_with_the_daemon_down_is_try_again_later() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("berth.sock");
    let run = run_berth(
        &attachment_env("ADD"),
        &netconf("0.4.0", &socket).to_string(),
    );
    let err = run.error(11);
    assert_eq!(err["cniVersion"], "0.4.0");
    let msg = err["msg"].as_str().expect("msg");
    assert!(msg.contains(&socket.display().to_string()), "{msg}");
    assert!(msg.contains("is the daemon running?"), "{msg}");
}

#[test]
fn daemon_error_kinds_become_the_documented_codes() {
    let table = [
        (ErrorKind::InvalidRequest, 7),
        (ErrorKind::InvalidConfig, 7),
        (ErrorKind::TryAgainLater, 11),
        (ErrorKind::PoolExhausted, 100),
        (ErrorKind::PolicyRejected, 101),
        (ErrorKind::PolicyFailed, 102),
        (ErrorKind::AddressUnavailable, 103),
        (ErrorKind::CheckFailed, 104),
        (ErrorKind::Internal, 105),
    ];
    for (kind, code) in table {
        let daemon = FakeDaemon::start(move |_| {
            Response::Error(ErrorBody {
                kind,
                message: "pool test-ippool: 10/10 allocated".into(),
            })
        });
        let run = run_berth(
            &attachment_env("ADD"),
            &netconf("1.0.0", &daemon.socket).to_string(),
        );
        let err = run.error(code);
        assert!(
            err["msg"]
                .as_str()
                .is_some_and(|m| m.ends_with("pool test-ippool: 10/10 allocated")),
            "{kind:?}: {err}"
        );
    }
}

#[test]
fn a_daemon_answer_that_is_not_an_address_is_a_protocol_mismatch() {
    let daemon = FakeDaemon::start(|_| Response::Ok);
    let run = run_berth(
        &attachment_env("ADD"),
        &netconf("1.0.0", &daemon.socket).to_string(),
    );
    run.error(106);
}
