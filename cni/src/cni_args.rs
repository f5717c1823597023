//! `CNI_ARGS`: `K=V;K=V` pairs the runtime passes for the workload.
//!
//! Keys come in any order. Unknown keys are always ignored: runtimes pass
//! keys meant for other plugins of the chain, and failing an ADD over one
//! would break pods for no gain. `IgnoreUnknown` (which libcni plugins need
//! to tolerate such keys) is therefore accepted and validated but changes
//! nothing. A pair without `=` or a known key given twice with different
//! values is refused: it means the runtime and Berth disagree on the
//! format, and guessing could bind an address to the wrong pod.

use berth_proto::PodRef;

/// The `CNI_ARGS` keys Berth reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CniArgs {
    pub pod: PodRef,
    /// `K8S_POD_INFRA_CONTAINER_ID`, the sandbox id; kept for diagnostics.
    pub infra_container_id: Option<String>,
    /// `IP=10.1.2.3,10.1.2.4/24`, the host-local convention for asking
    /// for specific addresses, still unparsed.
    pub ips: Vec<String>,
    pub ignore_unknown: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    #[error("CNI_ARGS entry {pair:?} is not KEY=VALUE (entries are separated by ';')")]
    MalformedPair { pair: String },
    #[error("CNI_ARGS sets {key} twice with different values ({first:?} and {second:?})")]
    Conflicting {
        key: String,
        first: String,
        second: String,
    },
    #[error("CNI_ARGS IgnoreUnknown={value:?} is not a boolean (use 1, 0, true or false)")]
    BadBool { value: String },
}

/// Parses `CNI_ARGS`. Empty entries (`a=1;;b=2`, a trailing `;`) are
/// skipped; whitespace around keys and values is trimmed.
pub fn parse(raw: &str) -> Result<CniArgs, ArgsError> {
    let mut args = CniArgs::default();
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for pair in raw.split(';') {
        if pair.trim().is_empty() {
            continue;
        }
        let (key, value) = pair
            .split_once('=')
            .map(|(k, v)| (k.trim(), v.trim()))
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| ArgsError::MalformedPair { pair: pair.into() })?;
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            if *first != value {
                return Err(ArgsError::Conflicting {
                    key: key.into(),
                    first: (*first).into(),
                    second: value.into(),
                });
            }
            continue;
        }
        seen.push((key, value));
        match key {
            "K8S_POD_NAMESPACE" => args.pod.namespace = value.into(),
            "K8S_POD_NAME" => args.pod.name = value.into(),
            "K8S_POD_UID" => args.pod.uid = value.into(),
            "K8S_POD_INFRA_CONTAINER_ID" => args.infra_container_id = Some(value.into()),
            "IP" => {
                args.ips = value
                    .split(',')
                    .map(str::trim)
                    .filter(|ip| !ip.is_empty())
                    .map(String::from)
                    .collect();
            }
            "IgnoreUnknown" => args.ignore_unknown = parse_bool(value)?,
            _ => {}
        }
    }
    Ok(args)
}

fn parse_bool(value: &str) -> Result<bool, ArgsError> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(ArgsError::BadBool {
            value: value.into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kubernetes_keys_in_any_order_and_ignores_unknown() {
        let forward = parse(
            "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=test-sts-0;\
             K8S_POD_INFRA_CONTAINER_ID=abc123;K8S_POD_UID=u-1;FOO=bar",
        )
        .expect("parse");
        let backward = parse(
            "FOO=bar;K8S_POD_UID=u-1;K8S_POD_INFRA_CONTAINER_ID=abc123;\
             K8S_POD_NAME=test-sts-0;K8S_POD_NAMESPACE=default;IgnoreUnknown=1",
        )
        .expect("parse");
        assert_eq!(forward, backward);
        assert_eq!(forward.pod.namespace, "default");
        assert_eq!(forward.pod.name, "test-sts-0");
        assert_eq!(forward.pod.uid, "u-1");
        assert_eq!(forward.infra_container_id.as_deref(), Some("abc123"));
        assert!(forward.ignore_unknown);
    }

    #[test]
    fn empty_and_blank_entries_are_skipped() {
        assert_eq!(parse("").expect("empty"), CniArgs::default());
        let args = parse(";K8S_POD_NAME=p;; ").expect("parse");
        assert_eq!(args.pod.name, "p");
    }

    #[test]
    fn unknown_keys_are_ignored_even_without_ignore_unknown() {
        let args = parse("SOMETHING_ELSE=x;K8S_POD_NAME=p").expect("parse");
        assert_eq!(args.pod.name, "p");
        assert!(!args.ignore_unknown);
    }

    #[test]
    fn values_may_contain_equals_signs() {
        let args = parse("K8S_POD_NAME=a=b").expect("parse");
        assert_eq!(args.pod.name, "a=b");
    }

    #[test]
    fn malformed_pairs_are_refused() {
        for raw in ["K8S_POD_NAME", "K8S_POD_NAME=p;junk", "=value"] {
            assert!(
                matches!(parse(raw), Err(ArgsError::MalformedPair { .. })),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn conflicting_duplicates_are_refused_identical_ones_tolerated() {
        assert!(matches!(
            parse("K8S_POD_NAME=a;K8S_POD_NAME=b"),
            Err(ArgsError::Conflicting { .. })
        ));
        assert_eq!(
            parse("K8S_POD_NAME=a;K8S_POD_NAME=a")
                .expect("same value twice")
                .pod
                .name,
            "a"
        );
    }

    #[test]
    fn ignore_unknown_must_be_a_boolean() {
        assert!(parse("IgnoreUnknown=TRUE").expect("bool").ignore_unknown);
        assert!(!parse("IgnoreUnknown=0").expect("bool").ignore_unknown);
        assert!(matches!(
            parse("IgnoreUnknown=yes"),
            Err(ArgsError::BadBool { .. })
        ));
    }

    #[test]
    fn ip_key_is_split_on_commas() {
        let args = parse("IP=10.0.0.5, fd00::5/64,").expect("parse");
        assert_eq!(args.ips, vec!["10.0.0.5", "fd00::5/64"]);
    }
}
