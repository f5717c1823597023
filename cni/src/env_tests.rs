use super::*;
use std::collections::HashMap;

fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
    let map: HashMap<String, OsString> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), OsString::from(*v)))
        .collect();
    move |key| map.get(key).cloned()
}

const FULL: &[(&str, &str)] = &[
    ("CNI_COMMAND", "ADD"),
    ("CNI_CONTAINERID", "c0ffee"),
    ("CNI_IFNAME", "eth0"),
    ("CNI_NETNS", "/run/netns/t"),
    ("CNI_ARGS", "K8S_POD_NAME=p;K8S_POD_NAMESPACE=ns"),
];

#[test]
fn add_reads_attachment_and_args() {
    let env = read_env(Verb::Add, &lookup(FULL)).expect("env");
    let attachment = env.attachment.expect("attachment");
    assert_eq!(attachment.container_id, "c0ffee");
    assert_eq!(attachment.ifname, "eth0");
    assert_eq!(env.args.pod.name, "p");
    assert_eq!(env.args.pod.namespace, "ns");
}

#[test]
fn missing_variables_are_all_named() {
    let err = read_env(Verb::Add, &lookup(&[("CNI_IFNAME", "eth0")])).expect_err("missing");
    assert_eq!(
        err,
        EnvError::Missing {
            missing: vec!["CNI_CONTAINERID", "CNI_NETNS"],
            verb: "ADD"
        }
    );
    assert_eq!(
        err.to_string(),
        "CNI_CONTAINERID, CNI_NETNS are not set; the runtime must set them for ADD"
    );
}

#[test]
fn empty_counts_as_missing() {
    let err = read_env(
        Verb::Check,
        &lookup(&[
            ("CNI_CONTAINERID", "c"),
            ("CNI_IFNAME", "eth0"),
            ("CNI_NETNS", ""),
        ]),
    )
    .expect_err("empty netns");
    assert_eq!(
        err.to_string(),
        "CNI_NETNS is not set; the runtime must set it for CHECK"
    );
}

#[test]
fn del_does_not_need_netns() {
    let env = read_env(
        Verb::Del,
        &lookup(&[("CNI_CONTAINERID", "c"), ("CNI_IFNAME", "eth0")]),
    )
    .expect("del without netns");
    assert!(env.attachment.is_some());
}

#[test]
fn gc_and_status_need_nothing_and_ignore_bad_args() {
    for verb in [Verb::Gc, Verb::Status] {
        let env = read_env(verb, &lookup(&[("CNI_ARGS", "garbage")])).expect("env");
        assert_eq!(env.attachment, None);
    }
}

#[test]
fn verb_is_required_and_checked() {
    assert_eq!(read_verb(&lookup(&[])), Err(EnvError::NoCommand));
    assert_eq!(
        read_verb(&lookup(&[("CNI_COMMAND", "add")])),
        Err(EnvError::UnknownCommand("add".into()))
    );
    assert_eq!(read_verb(&lookup(&[("CNI_COMMAND", "GC")])), Ok(Verb::Gc));
}

#[test]
fn container_id_and_ifname_are_validated() {
    for (var, value) in [
        ("CNI_CONTAINERID", "-leading-dash"),
        ("CNI_CONTAINERID", "has/slash"),
        ("CNI_IFNAME", "waytoolonginterface"),
        ("CNI_IFNAME", "eth 0"),
        ("CNI_IFNAME", ".."),
    ] {
        let mut pairs = FULL.to_vec();
        pairs.retain(|(k, _)| *k != var);
        pairs.push((var, value));
        let err = read_env(Verb::Add, &lookup(&pairs)).expect_err(value);
        assert!(
            matches!(err, EnvError::Invalid { var: v, .. } if v == var),
            "{err}"
        );
    }
}

#[test]
fn malformed_cni_args_is_an_env_error() {
    let mut pairs = FULL.to_vec();
    pairs.retain(|(k, _)| *k != "CNI_ARGS");
    pairs.push(("CNI_ARGS", "K8S_POD_NAME"));
    assert!(matches!(
        read_env(Verb::Del, &lookup(&pairs)),
        Err(EnvError::Args(ArgsError::MalformedPair { .. }))
    ));
}
