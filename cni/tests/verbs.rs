//! DEL, CHECK, GC, STATUS and VERSION through the real binary.

mod common;

use berth_proto::{
    AddResult, Attachment, CheckRequest, DelRequest, ErrorBody, ErrorKind, GcRequest, Request,
    Response,
};
use common::{attachment_env, env_attachment, env_pod, netconf, run_berth, FakeDaemon};
use serde_json::json;

fn ok_daemon() -> FakeDaemon {
    FakeDaemon::start(|_| Response::Ok)
}

#[test]
fn del_needs_neither_netns_nor_prev_result_and_prints_nothing() {
    let daemon = ok_daemon();
    let mut env = attachment_env("DEL");
    env.retain(|(k, _)| *k != "CNI_NETNS");
    let conf = netconf("1.0.0", &daemon.socket);
    for _ in 0..2 {
        // Repeated DELs are the daemon's to make idempotent; the plugin
        // sends each and passes the daemon's Ok through.
        let run = run_berth(&env, &conf.to_string());
        assert!(run.success, "{}", run.stdout);
        assert_eq!(run.stdout, "");
    }
    let expected = Request::Del(DelRequest {
        attachment: env_attachment(),
        network: "test-net".into(),
        pod: env_pod(),
    });
    assert_eq!(daemon.requests(), vec![expected.clone(), expected]);
}

#[test]
fn del_with_the_daemon_down_is_try_again_later() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = netconf("1.0.0", &dir.path().join("berth.sock"));
    run_berth(&attachment_env("DEL"), &conf.to_string()).error(11);
}

#[test]
fn check_sends_prev_result_addresses() {
    let daemon = ok_daemon();
    let mut conf = netconf("1.0.0", &daemon.socket);
    conf["prevResult"] = json!({
        "cniVersion": "1.0.0",
        "interfaces": [{"name": "eth0", "sandbox": "/run/netns/test"}],
        "ips": [{"address": "10.6.168.101/16", "gateway": "10.6.0.1", "interface": 0}],
        "dns": {}
    });
    let run = run_berth(&attachment_env("CHECK"), &conf.to_string());
    assert!(run.success, "{}", run.stdout);
    assert_eq!(run.stdout, "");
    assert_eq!(
        daemon.only_request(),
        Request::Check(CheckRequest {
            attachment: env_attachment(),
            network: "test-net".into(),
            expected: vec!["10.6.168.101/16".parse().expect("cidr")],
        })
    );
}

#[test]
fn check_mismatch_is_code_104_and_old_versions_cannot_check() {
    let daemon = FakeDaemon::start(|_| {
        Response::Error(ErrorBody {
            kind: ErrorKind::CheckFailed,
            message: "c1/eth0 holds 10.6.168.102/16, not 10.6.168.101/16".into(),
        })
    });
    let mut conf = netconf("0.4.0", &daemon.socket);
    conf["prevResult"] = json!({"ips": [{"version": "4", "address": "10.6.168.101/16"}]});
    run_berth(&attachment_env("CHECK"), &conf.to_string()).error(104);
    conf["cniVersion"] = json!("0.3.1");
    run_berth(&attachment_env("CHECK"), &conf.to_string()).error(1);
}

#[test]
fn gc_sends_valid_attachments_under_either_key() {
    for key in ["cni.dev/valid-attachments", "cni.dev/attachments"] {
        let daemon = ok_daemon();
        let mut conf = netconf("1.1.0", &daemon.socket);
        conf[key] = json!([
            {"containerID": "c1", "ifname": "eth0"},
            {"containerID": "c2", "ifname": "net1"}
        ]);
        let run = run_berth(
            &[("CNI_COMMAND", "GC"), ("CNI_PATH", "/opt/cni/bin")],
            &conf.to_string(),
        );
        assert!(run.success, "{key}: {}", run.stdout);
        assert_eq!(
            daemon.only_request(),
            Request::Gc(GcRequest {
                network: "test-net".into(),
                valid: vec![
                    Attachment {
                        container_id: "c1".into(),
                        ifname: "eth0".into(),
                    },
                    Attachment {
                        container_id: "c2".into(),
                        ifname: "net1".into(),
                    },
                ],
            }),
            "{key}"
        );
    }
}

#[test]
fn gc_without_an_attachment_list_releases_nothing() {
    let daemon = ok_daemon();
    let conf = netconf("1.1.0", &daemon.socket);
    run_berth(&[("CNI_COMMAND", "GC")], &conf.to_string()).error(7);
    assert!(daemon.requests().is_empty());
}

#[test]
fn status_is_ok_when_berthd_answers() {
    let daemon = ok_daemon();
    let run = run_berth(
        &[("CNI_COMMAND", "STATUS")],
        &netconf("1.1.0", &daemon.socket).to_string(),
    );
    assert!(run.success, "{}", run.stdout);
    assert_eq!(run.stdout, "");
    assert_eq!(daemon.only_request(), Request::Status);
}

#[test]
fn status_is_50_when_the_socket_is_absent_or_the_daemon_is_busy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = netconf("1.1.0", &dir.path().join("berth.sock"));
    let err = run_berth(&[("CNI_COMMAND", "STATUS")], &conf.to_string()).error(50);
    assert_eq!(err["cniVersion"], "1.1.0");
    let busy = FakeDaemon::start(|_| {
        Response::Error(ErrorBody {
            kind: ErrorKind::TryAgainLater,
            message: "store is still opening".into(),
        })
    });
    let conf = netconf("1.1.0", &busy.socket);
    run_berth(&[("CNI_COMMAND", "STATUS")], &conf.to_string()).error(50);
}

#[test]
fn status_and_gc_need_cni_1_1_0() {
    let daemon = ok_daemon();
    let conf = netconf("1.0.0", &daemon.socket);
    run_berth(&[("CNI_COMMAND", "STATUS")], &conf.to_string()).error(1);
    run_berth(&[("CNI_COMMAND", "GC")], &conf.to_string()).error(1);
    assert!(daemon.requests().is_empty());
}

#[test]
fn ok_verbs_refuse_an_add_result() {
    let daemon = FakeDaemon::start(|_| Response::Added(AddResult::default()));
    let conf = netconf("1.0.0", &daemon.socket);
    run_berth(&attachment_env("DEL"), &conf.to_string()).error(106);
}

#[test]
fn version_echoes_the_request_and_lists_supported_versions() {
    let supported = json!(["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]);
    let run = run_berth(&[("CNI_COMMAND", "VERSION")], r#"{"cniVersion": "0.4.0"}"#);
    assert!(run.success);
    assert_eq!(
        run.json(),
        json!({"cniVersion": "0.4.0", "supportedVersions": supported})
    );
    let run = run_berth(&[("CNI_COMMAND", "VERSION")], "");
    assert!(run.success);
    assert_eq!(
        run.json(),
        json!({"cniVersion": "1.1.0", "supportedVersions": supported})
    );
}
