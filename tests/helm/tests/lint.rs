//! `helm lint --strict` on both genuine helm versions, with every values
//! file the project ships; and proof that lint can fail.

// Tests: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use berth_helm_tests::{chart_dir, examples_dir, values, Helm};
use std::path::PathBuf;

fn good_values() -> Vec<PathBuf> {
    vec![
        values("default.yaml"),
        values("full.yaml"),
        examples_dir().join("values-seed.yaml"),
        examples_dir().join("values-custom-policy.yaml"),
    ]
}

#[test]
fn the_helm_binaries_are_v3_and_v4() {
    assert!(
        Helm::V3.version().starts_with("v3.18.0"),
        "{}",
        Helm::V3.version()
    );
    assert!(
        Helm::V4.version().starts_with("v4.2.3"),
        "{}",
        Helm::V4.version()
    );
}

#[test]
fn lint_strict_passes_on_both_helm_versions() {
    let chart = chart_dir().display().to_string();
    for helm in Helm::ALL {
        for v in good_values() {
            let v = v.display().to_string();
            let out = helm
                .run(&["lint", "--strict", &chart, "--values", &v])
                .unwrap_or_else(|e| panic!("{helm:?} lint --strict with {v}:\n{e}"));
            assert!(out.contains("0 chart(s) failed"), "{helm:?} {v}:\n{out}");
        }
    }
}

#[test]
fn lint_strict_fails_on_values_the_schema_refuses() {
    let chart = chart_dir().display().to_string();
    let bad = values("bad/failure-policy-sometimes.yaml")
        .display()
        .to_string();
    for helm in Helm::ALL {
        let err = helm
            .run(&["lint", "--strict", &chart, "--values", &bad])
            .expect_err("lint must refuse failurePolicy: Sometimes");
        assert!(err.contains("1 chart(s) failed"), "{helm:?}:\n{err}");
    }
}
