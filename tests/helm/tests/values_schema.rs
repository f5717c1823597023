//! values.schema.json refuses bad values on both helm versions, each with a
//! message naming what is wrong.

// Tests: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use berth_helm_tests::{values, Helm};

/// (file under values/bad, fragments every helm's message must contain,
/// compared in lowercase)
const CASES: &[(&str, &[&str])] = &[
    (
        "failure-policy-sometimes.yaml",
        &["failurepolicy", "must be one of", "'fail'", "'ignore'"],
    ),
    (
        "sha256-wrong-length.yaml",
        &["sha256", "does not match pattern '^[a-f0-9]{64}$'"],
    ),
    (
        "sha256-uppercase.yaml",
        &["sha256", "does not match pattern '^[a-f0-9]{64}$'"],
    ),
    (
        "builtin-and-url.yaml",
        &["policies", "oneof", "not allowed"],
    ),
    ("url-without-sha256.yaml", &["policies", "oneof", "sha256"]),
    (
        "configmap-without-sha256.yaml",
        &["policies", "oneof", "sha256"],
    ),
    (
        "unknown-builtin.yaml",
        &["builtin", "must be one of", "sticky-statefulset"],
    ),
    ("typo-key.yaml", &["setings", "not allowed"]),
    ("top-level-typo.yaml", &["pollicies", "not allowed"]),
    ("kubernetes-interval-zero.yaml", &["gcintervalsecs"]),
    (
        "kubernetes-leader-election.yaml",
        &["leaderelection", "not allowed"],
    ),
    // The fetcher runs from the Berth image now: its own image is gone.
    ("policy-fetcher-image.yaml", &["image", "not allowed"]),
];

#[test]
fn bad_values_are_refused_by_the_schema() {
    for helm in Helm::ALL {
        for (file, fragments) in CASES {
            let err = helm
                .template(&[&values(&format!("bad/{file}"))], &[])
                .expect_err(&format!("{helm:?} accepted bad/{file}"));
            let lower = err.to_lowercase();
            assert!(
                lower.contains("values don't meet the specifications of the schema"),
                "{helm:?} bad/{file}: not refused by the schema:\n{err}"
            );
            for fragment in *fragments {
                // helm v3 quotes enum values with ", v4 with '.
                let found =
                    lower.contains(fragment) || lower.contains(&fragment.replace('\'', "\""));
                assert!(found, "{helm:?} bad/{file}: no {fragment:?} in:\n{err}");
            }
        }
    }
}

#[test]
fn a_bad_value_given_with_set_is_refused_too() {
    for helm in Helm::ALL {
        let err = helm
            .template(
                &[],
                &[
                    "policies[0].name=sticky",
                    "policies[0].builtin=sticky-statefulset",
                    "policies[0].failurePolicy=Sometimes",
                ],
            )
            .expect_err("failurePolicy=Sometimes accepted");
        assert!(
            err.to_lowercase().contains("failurepolicy"),
            "{helm:?}:\n{err}"
        );
        let err = helm
            .template(&[], &["metrics.port=70000"])
            .expect_err("port 70000 accepted");
        assert!(err.contains("port"), "{helm:?}:\n{err}");
    }
}

#[test]
fn duplicate_policy_names_fail_the_render() {
    for helm in Helm::ALL {
        let err = helm
            .template(&[&values("bad/duplicate-names.yaml")], &[])
            .expect_err("duplicate names accepted");
        assert!(err.contains("\"sticky\" is used twice"), "{helm:?}:\n{err}");
    }
}

#[test]
fn kubernetes_mode_refuses_node_local_pools() {
    let pools = values("bad/kubernetes-with-pools.yaml");
    for helm in Helm::ALL {
        // The schema (if kubernetes.enabled then daemon.pools is empty).
        let err = helm
            .template(&[&pools], &[])
            .expect_err("Kubernetes mode with daemon.pools accepted");
        let lower = err.to_lowercase();
        assert!(
            lower.contains("values don't meet the specifications of the schema"),
            "{helm:?}: not refused by the schema:\n{err}"
        );
        // helm v3: "daemon.pools: Array must have at most 0 items";
        // helm v4: "at '/daemon/pools': maxItems: got 1, want 0".
        assert!(
            lower.contains("daemon.pools: array must have at most 0 items")
                || lower.contains("'/daemon/pools': maxitems: got 1, want 0"),
            "{helm:?}:\n{err}"
        );
        // And the template, for renders that skip the schema.
        let chart = berth_helm_tests::chart_dir();
        let args = [
            "template",
            "berth",
            chart.to_str().unwrap(),
            "--skip-schema-validation",
            "--values",
            pools.to_str().unwrap(),
        ];
        let err = helm
            .run(&args)
            .expect_err("Kubernetes mode with daemon.pools rendered without the schema");
        assert!(
            err.contains("daemon.pools must be empty when kubernetes.enabled is true"),
            "{helm:?}:\n{err}"
        );
        // The same pools are fine in single-host mode.
        let r = helm.render(&[&pools], &["kubernetes.enabled=false"]);
        assert_eq!(r.daemon_config()["pools"][0]["name"], "node-local");
    }
}
