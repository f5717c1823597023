//! Pod annotations about what the pod's interfaces get besides their
//! addresses (see `berth_core::pod_network`).
//!
//! | key | value |
//! |---|---|
//! | `berth.io/cleangateway` | `"true"` or `"false"`: no default route via the pools' gateways (every interface) |
//! | `ipam.spidernet.io/cleangateway` | the same; Spiderpool itself spells it as the `cleangateway` field of an `ipam.spidernet.io/ippools` entry, which Berth reads too (`annotations.rs`) |
//!
//! Precedence of `cleanGateway`, most specific first: the `ippools` entry
//! naming the interface's pools, these pod annotations, the CNI config's
//! `ipam.cleanGateway`, the pool's `cleanGateway` (as Spiderpool: pod
//! over CNI config; the pool setting is Berth's).

use crate::annotations::AnnotationError;
use std::collections::BTreeMap;

pub const BERTH_CLEAN_GATEWAY: &str = "berth.io/cleangateway";
pub const SPIDER_CLEAN_GATEWAY: &str = "ipam.spidernet.io/cleangateway";

type Annotations = BTreeMap<String, String>;

/// The pod-wide `cleanGateway`, when an annotation sets it. The two keys
/// must agree when both are present: picking one would ignore the other.
pub fn clean_gateway(pod: &Annotations) -> Result<Option<bool>, AnnotationError> {
    let read = |key: &str| -> Result<Option<bool>, AnnotationError> {
        pod.get(key)
            .map(|value| match value.trim().to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(AnnotationError {
                    key: key.to_owned(),
                    problem: format!("{value:?} is neither \"true\" nor \"false\""),
                }),
            })
            .transpose()
    };
    let berth = read(BERTH_CLEAN_GATEWAY)?;
    let spider = read(SPIDER_CLEAN_GATEWAY)?;
    match (berth, spider) {
        (Some(a), Some(b)) if a != b => Err(AnnotationError {
            key: BERTH_CLEAN_GATEWAY.to_owned(),
            problem: format!("says {a} but {SPIDER_CLEAN_GATEWAY} says {b}"),
        }),
        (a, b) => Ok(a.or(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(pairs: &[(&str, &str)]) -> Annotations {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn clean_gateway_reads_either_key() {
        assert_eq!(clean_gateway(&Annotations::new()), Ok(None));
        assert_eq!(
            clean_gateway(&ann(&[(BERTH_CLEAN_GATEWAY, "true")])),
            Ok(Some(true))
        );
        assert_eq!(
            clean_gateway(&ann(&[(SPIDER_CLEAN_GATEWAY, "False")])),
            Ok(Some(false))
        );
        assert_eq!(
            clean_gateway(&ann(&[
                (BERTH_CLEAN_GATEWAY, "true"),
                (SPIDER_CLEAN_GATEWAY, "true")
            ])),
            Ok(Some(true))
        );
    }

    #[test]
    fn clean_gateway_refuses_junk_and_disagreement() {
        let err = clean_gateway(&ann(&[(SPIDER_CLEAN_GATEWAY, "yes")])).expect_err("junk");
        assert_eq!(err.key, SPIDER_CLEAN_GATEWAY);
        let err = clean_gateway(&ann(&[
            (BERTH_CLEAN_GATEWAY, "true"),
            (SPIDER_CLEAN_GATEWAY, "false"),
        ]))
        .expect_err("disagree");
        assert_eq!(err.key, BERTH_CLEAN_GATEWAY);
    }
}
