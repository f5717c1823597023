//! `berth-policy new` for each language makes a project, outside this
//! repository, that `berth-policy build` builds and checks and
//! `berth-policy test` passes in the real host runtime, with no edits; and
//! a fixture the policy does not satisfy fails the run.

mod support;

use std::process::Command;
use support::{berth_policy, stdout};

fn lifecycle(lang: &str) {
    // A temp dir outside the repository: the project must not lean on the
    // workspace it was generated from.
    let work = tempfile::tempdir().expect("temp dir");
    let name = format!("keep-{lang}");
    let created = berth_policy(work.path(), &["new", &name, "--lang", lang]);
    assert!(created.status.success());
    let project = work.path().join(&name);

    let built = berth_policy(&project, &["build"]);
    assert!(built.status.success(), "build fails");
    let out = stdout(&built);
    assert!(out.contains(&format!("policy     {name} ")), "{out}");
    let digest = out
        .lines()
        .find_map(|l| l.strip_prefix("sha256     "))
        .expect("prints the sha256");
    assert_eq!(digest.len(), 64);
    assert!(
        out.contains(&format!("\"sha256\": \"{digest}\"")),
        "berthd.json snippet: {out}"
    );
    assert!(
        out.contains(&format!("sha256: \"{digest}\"")),
        "values snippet: {out}"
    );

    let tested = berth_policy(
        &project,
        &[
            "test",
            "fixtures/keeps-listed-pool.json",
            "fixtures/rejects-unlisted-pools.json",
        ],
    );
    assert!(tested.status.success(), "the template's fixtures pass");
    assert!(stdout(&tested).contains("2 passed, 0 failed"));

    // The same two fixtures as one YAML file, two documents.
    let yaml: String = ["keeps-listed-pool", "rejects-unlisted-pools"]
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(project.join(format!("fixtures/{f}.json")))
                .expect("fixture");
            let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            format!("---\n{}", serde_saphyr::to_string(&value).expect("YAML"))
        })
        .collect();
    std::fs::write(project.join("both.yaml"), yaml).expect("write YAML");
    let tested = berth_policy(&project, &["test", "both.yaml"]);
    assert!(
        stdout(&tested).contains("2 passed, 0 failed"),
        "YAML fixtures: {}",
        stdout(&tested)
    );

    // The same fixture expecting another pool must fail, naming why.
    let fixture =
        std::fs::read_to_string(project.join("fixtures/keeps-listed-pool.json")).expect("fixture");
    let wrong = fixture.replace(
        "\"RestrictPools\": [\n        \"b\"",
        "\"RestrictPools\": [\n        \"a\"",
    );
    assert_ne!(wrong, fixture, "the fixture's decision was rewritten");
    std::fs::write(project.join("wrong.json"), wrong).expect("write fixture");
    let failed = berth_policy(&project, &["test", "wrong.json"]);
    assert!(
        !failed.status.success(),
        "a wrong expectation fails the run"
    );
    assert!(stdout(&failed).contains("0 passed, 1 failed"));
    assert!(stdout(&failed).contains("decision: expected RestrictPools([\"a\"])"));
}

#[test]
fn rust_project_builds_and_passes_its_fixtures() {
    lifecycle("rust");
}

#[test]
fn rust_project_passes_its_native_tests_out_of_the_tree() {
    let work = tempfile::tempdir().expect("temp dir");
    assert!(
        berth_policy(work.path(), &["new", "native", "--lang", "rust"])
            .status
            .success()
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["test", "--manifest-path"])
        .arg(work.path().join("native/Cargo.toml"))
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("cargo runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{text}");
    assert!(text.contains("test result: ok. 3 passed"), "{text}");
}

#[test]
fn python_project_builds_and_passes_its_fixtures() {
    lifecycle("python");
}

#[test]
fn js_project_builds_and_passes_its_fixtures() {
    lifecycle("js");
}

#[test]
fn new_refuses_a_bad_name_and_a_non_empty_directory() {
    let work = tempfile::tempdir().expect("temp dir");
    assert!(
        !berth_policy(work.path(), &["new", "Bad Name", "--lang", "rust"])
            .status
            .success()
    );
    std::fs::write(work.path().join("x"), "").expect("write");
    let refused = berth_policy(work.path(), &["new", "ok", "--lang", "js", "--dir", "."]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not empty"));
}
