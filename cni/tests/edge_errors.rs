//! Bad input at the edge: refused with the right code before berthd is asked.

mod common;

use berth_proto::Response;
use common::{attachment_env, netconf, run_berth, FakeDaemon};
use serde_json::json;

fn ok_daemon() -> FakeDaemon {
    FakeDaemon::start(|_| Response::Ok)
}

#[test]
fn malformed_stdin_is_a_decode_failure() {
    let daemon = ok_daemon();
    for stdin in ["{\"cniVersion\": \"1.0.0\",", "", "[1, 2]", "not json"] {
        let err = run_berth(&attachment_env("ADD"), stdin).error(6);
        assert_eq!(err["cniVersion"], "1.1.0", "{stdin:?}");
    }
    assert!(daemon.requests().is_empty());
}

#[test]
fn missing_env_is_code_4_naming_the_variable() {
    let daemon = ok_daemon();
    let conf = netconf("1.0.0", &daemon.socket).to_string();
    for var in ["CNI_CONTAINERID", "CNI_IFNAME", "CNI_NETNS"] {
        let mut env = attachment_env("ADD");
        env.retain(|(k, _)| *k != var);
        let err = run_berth(&env, &conf).error(4);
        assert_eq!(err["cniVersion"], "1.0.0");
        assert!(
            err["msg"].as_str().is_some_and(|m| m.starts_with(var)),
            "{var}: {err}"
        );
    }
    let err = run_berth(&[], &conf).error(4);
    assert!(
        err["msg"]
            .as_str()
            .is_some_and(|m| m.contains("CNI_COMMAND")),
        "{err}"
    );
    run_berth(&[("CNI_COMMAND", "REMOVE")], &conf).error(4);
    assert!(daemon.requests().is_empty());
}

#[test]
fn malformed_cni_args_is_code_4() {
    let daemon = ok_daemon();
    let mut env = attachment_env("ADD");
    env.retain(|(k, _)| *k != "CNI_ARGS");
    env.push(("CNI_ARGS", "K8S_POD_NAME=a;K8S_POD_NAMESPACE"));
    run_berth(&env, &netconf("1.0.0", &daemon.socket).to_string()).error(4);
    assert!(daemon.requests().is_empty());
}

#[test]
fn unknown_ipam_field_is_code_7_and_names_it() {
    let daemon = ok_daemon();
    let mut conf = netconf("1.0.0", &daemon.socket);
    conf["ipam"]["subnet"] = json!("10.6.0.0/16");
    let err = run_berth(&attachment_env("ADD"), &conf.to_string()).error(7);
    assert!(
        err["msg"]
            .as_str()
            .is_some_and(|m| m.contains("unknown field `subnet`")),
        "{err}"
    );
    assert!(daemon.requests().is_empty());
}

#[test]
fn unsupported_cni_version_is_code_1() {
    let daemon = ok_daemon();
    let conf = netconf("0.2.0", &daemon.socket);
    run_berth(&attachment_env("ADD"), &conf.to_string()).error(1);
    assert!(daemon.requests().is_empty());
}

#[test]
fn berth_socket_env_is_used_when_the_config_names_no_socket() {
    let daemon = ok_daemon();
    let mut conf = netconf("1.0.0", &daemon.socket);
    conf["ipam"] = json!({"type": "berth"});
    let socket = daemon.socket.display().to_string();
    let mut env = attachment_env("DEL");
    env.push(("BERTH_SOCKET", &socket));
    let run = run_berth(&env, &conf.to_string());
    assert!(run.success, "{}", run.stdout);
    assert_eq!(daemon.requests().len(), 1);
}
