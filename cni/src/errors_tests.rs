use super::*;
use crate::cni_args::ArgsError;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

fn daemon(kind: ErrorKind) -> Failure {
    Failure::Daemon(ErrorBody {
        kind,
        message: "details from berthd".into(),
    })
}

fn unreachable() -> Failure {
    Failure::Client(ClientError::Unreachable {
        path: PathBuf::from("/run/berth/berth.sock"),
        source: io::Error::from(io::ErrorKind::ConnectionRefused),
    })
}

#[test]
fn daemon_kinds_map_to_the_documented_codes() {
    let table = [
        (ErrorKind::InvalidRequest, INVALID_CONFIG),
        (ErrorKind::InvalidConfig, INVALID_CONFIG),
        (ErrorKind::TryAgainLater, TRY_AGAIN_LATER),
        (ErrorKind::PoolExhausted, POOL_EXHAUSTED),
        (ErrorKind::PolicyRejected, POLICY_REJECTED),
        (ErrorKind::PolicyFailed, POLICY_FAILED),
        (ErrorKind::AddressUnavailable, ADDRESS_UNAVAILABLE),
        (ErrorKind::CheckFailed, CHECK_FAILED),
        (ErrorKind::Internal, INTERNAL),
    ];
    for (kind, code) in table {
        for verb in [Verb::Add, Verb::Del, Verb::Check, Verb::Gc] {
            assert_eq!(daemon(kind).code(Some(verb)), code, "{kind:?} {verb:?}");
        }
    }
    assert_eq!(
        [POOL_EXHAUSTED, POLICY_REJECTED, POLICY_FAILED],
        [100, 101, 102]
    );
    assert_eq!(
        [ADDRESS_UNAVAILABLE, CHECK_FAILED, INTERNAL],
        [103, 104, 105]
    );
}

#[test]
fn status_reports_not_available_except_for_config_and_protocol() {
    assert_eq!(unreachable().code(Some(Verb::Status)), 50);
    assert_eq!(
        daemon(ErrorKind::TryAgainLater).code(Some(Verb::Status)),
        50
    );
    assert_eq!(
        daemon(ErrorKind::PoolExhausted).code(Some(Verb::Status)),
        50
    );
    assert_eq!(daemon(ErrorKind::InvalidConfig).code(Some(Verb::Status)), 7);
    let protocol = Failure::UnexpectedAnswer {
        verb: "STATUS",
        got: "an ADD result",
    };
    assert_eq!(protocol.code(Some(Verb::Status)), 106);
}

#[test]
fn transport_failures_are_try_again_later_outside_status() {
    let path = PathBuf::from("/run/berth/berth.sock");
    let failures = [
        unreachable(),
        Failure::Client(ClientError::Timeout {
            path: path.clone(),
            timeout: Duration::from_secs(1),
        }),
        Failure::Client(ClientError::Closed { path }),
    ];
    for failure in failures {
        for verb in [Verb::Add, Verb::Del, Verb::Check, Verb::Gc] {
            assert_eq!(failure.code(Some(verb)), 11, "{failure} {verb:?}");
        }
    }
}

#[test]
fn edge_errors_map_to_env_decode_config_and_version_codes() {
    let env = Failure::Env(EnvError::Args(ArgsError::MalformedPair {
        pair: "x".into(),
    }));
    assert_eq!(env.code(Some(Verb::Add)), 4);
    assert_eq!(Failure::Env(EnvError::NoCommand).code(None), 4);
    let decode = Failure::Config(ConfigError::Decode("eof".into()));
    assert_eq!(decode.code(Some(Verb::Add)), 6);
    assert_eq!(
        Failure::Config(ConfigError::TooLarge).code(Some(Verb::Add)),
        6
    );
    let invalid = Failure::Config(ConfigError::invalid("ipam", "unknown field `pool`"));
    assert_eq!(invalid.code(Some(Verb::Add)), 7);
    assert_eq!(invalid.code(Some(Verb::Status)), 7);
    let old = Failure::Config(ConfigError::Unsupported("0.2.0".into()));
    assert_eq!(old.code(Some(Verb::Add)), 1);
    let stdin = Failure::Config(ConfigError::Stdin(io::Error::from(io::ErrorKind::Other)));
    assert_eq!(stdin.code(Some(Verb::Add)), 5);
}

#[test]
fn error_json_has_the_spec_fields_and_an_actionable_message() {
    let json: serde_json::Value = serde_json::from_str(
        &CniErrorJson::new(&unreachable(), Some(Verb::Add), "0.4.0").to_json(),
    )
    .expect("json");
    assert_eq!(json["cniVersion"], "0.4.0");
    assert_eq!(json["code"], 11);
    assert_eq!(
        json["msg"],
        "berthd is not reachable at /run/berth/berth.sock: connection refused; is the daemon running?"
    );
    assert!(json["details"].is_string());
}

#[test]
fn daemon_errors_carry_the_kind_and_message() {
    let failure = daemon(ErrorKind::PoolExhausted);
    let json = CniErrorJson::new(&failure, Some(Verb::Add), "1.1.0");
    assert_eq!(
        json.msg,
        "no free address in the candidate pools: details from berthd"
    );
    assert_eq!(json.details, "berthd error kind: pool-exhausted");
}

#[test]
fn a_caller_refused_by_the_socket_is_not_told_to_try_again() {
    let denied = Failure::Client(ClientError::Unreachable {
        path: PathBuf::from("/run/berth/berth.sock"),
        source: io::Error::from(io::ErrorKind::PermissionDenied),
    });
    for verb in [Verb::Add, Verb::Del, Verb::Check, Verb::Gc] {
        assert_eq!(denied.code(Some(verb)), IO_FAILURE, "{verb:?}");
    }
    assert_eq!(denied.code(Some(Verb::Status)), NOT_AVAILABLE);
    assert!(
        denied.to_string().contains("run the plugin as root"),
        "{denied}"
    );
}
