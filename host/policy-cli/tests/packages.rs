//! The Python and JavaScript helper packages (sdk/python/berth_policy,
//! sdk/js/berth-policy): their own suites pass (unittest, node --test,
//! with the pinned componentize-py and jco), the shared fixtures
//! (sdk/fixtures) pass in the real host runtime exactly as they pass
//! natively through the packages' copy of the chain rules, and a project
//! from `berth-policy new` passes its native tests out of the tree.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn toolchains() -> PathBuf {
    berth_wasm_build::foreign::toolchains_dir(&repo())
}

/// The Python of the pinned toolchain: it has componentize-py beside it,
/// which the package runs to generate the contract's bindings.
fn python() -> PathBuf {
    toolchains().join("python/bin/python")
}

fn run(command: &mut Command) -> (Output, String) {
    let output = command
        .env("BERTH_POLICY_TOOLCHAINS", toolchains())
        .output()
        .unwrap_or_else(|e| panic!("{command:?} runs: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{command:?}:\n{text}");
    (output, text)
}

fn unittest(dir: &Path) -> String {
    let (output, text) = run(Command::new(python())
        .args(["-m", "unittest", "discover", "-s", "tests", "-t", "."])
        .current_dir(dir));
    assert!(
        output.status.success(),
        "unittest fails in {}",
        dir.display()
    );
    text
}

fn node_test(dir: &Path, register: &str) -> String {
    let (output, text) = run(Command::new("node")
        .args(["--import", register, "--test", "test/"])
        .current_dir(dir));
    assert!(
        output.status.success(),
        "node --test fails in {}",
        dir.display()
    );
    assert!(text.contains("# fail 0"), "{text}");
    text
}

fn berth_policy(dir: &Path, args: &[&str]) -> (Output, String) {
    run(Command::new(env!("CARGO_BIN_EXE_berth-policy"))
        .args(args)
        .current_dir(dir))
}

fn shared_fixtures() -> Vec<String> {
    let dir = repo().join("sdk/fixtures");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("sdk/fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.canonicalize().expect("path").display().to_string())
        .collect();
    files.sort();
    assert!(files.len() >= 12, "{files:?}");
    files
}

fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read dir") {
            let entry = entry.expect("entry");
            if entry.file_name() != "__pycache__" {
                copy(&entry.path(), &to.join(entry.file_name()));
            }
        }
    } else {
        std::fs::copy(from, to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    }
}

/// `project` through `berth-policy test` with every shared fixture: the
/// host must agree with the native run of the same files.
fn host_passes_the_shared_fixtures(project: &Path) {
    copy(&repo().join("sdk/wit"), &project.join("wit"));
    let fixtures = shared_fixtures();
    let mut args = vec!["test"];
    args.extend(fixtures.iter().map(String::as_str));
    let (output, text) = berth_policy(project, &args);
    assert!(output.status.success(), "the host disagrees: {text}");
    assert!(
        text.contains(&format!("{} passed, 0 failed", fixtures.len())),
        "{text}"
    );
}

#[test]
fn the_python_package_passes_its_tests_natively_and_in_the_host() {
    let text = unittest(&repo().join("sdk/python"));
    assert!(text.contains("\nOK"), "{text}");
    // The scripted policy converts its settings with berth_policy inside
    // the component: the package works under componentize-py too.
    let work = tempfile::tempdir().expect("temp dir");
    let project = work.path().join("scripted");
    std::fs::create_dir_all(&project).expect("mkdir");
    copy(
        &repo().join("sdk/python/tests/scripted/app.py"),
        &project.join("app.py"),
    );
    copy(
        &repo().join("sdk/python/berth_policy"),
        &project.join("berth_policy"),
    );
    host_passes_the_shared_fixtures(&project);
}

#[test]
fn the_js_package_passes_its_tests_natively_and_in_the_host() {
    node_test(&repo().join("sdk/js/berth-policy"), "./register.js");
    let work = tempfile::tempdir().expect("temp dir");
    let project = work.path().join("scripted");
    std::fs::create_dir_all(&project).expect("mkdir");
    copy(
        &repo().join("sdk/js/berth-policy/test/scripted/policy.js"),
        &project.join("policy.js"),
    );
    host_passes_the_shared_fixtures(&project);
}

#[test]
fn new_projects_pass_their_native_tests_out_of_the_tree() {
    let work = tempfile::tempdir().expect("temp dir");
    for lang in ["python", "js"] {
        let name = format!("native-{lang}");
        let (created, _) = berth_policy(work.path(), &["new", &name, "--lang", lang]);
        assert!(created.status.success());
        let project = work.path().join(&name);
        if lang == "python" {
            let text = unittest(&project);
            assert!(text.contains("Ran 2 tests"), "{text}");
        } else {
            let text = node_test(&project, "./berth-policy/register.js");
            assert!(text.contains("# pass 2"), "{text}");
        }
        // A wrong expectation fails natively, as in the host.
        let fixture = project.join("fixtures/keeps-listed-pool.json");
        let text = std::fs::read_to_string(&fixture).expect("fixture");
        let wrong = text.replace(
            "\"b\"\n      ]\n    },\n    \"picked\"",
            "\"a\"\n      ]\n    },\n    \"picked\"",
        );
        assert_ne!(wrong, text, "the expected decision was rewritten");
        std::fs::write(&fixture, wrong).expect("write");
        let (output, text) = if lang == "python" {
            run(Command::new(python())
                .args(["-m", "unittest", "discover", "-s", "tests", "-t", "."])
                .current_dir(&project))
        } else {
            run(Command::new("node")
                .args(["--import", "./berth-policy/register.js", "--test", "test/"])
                .current_dir(&project))
        };
        assert!(!output.status.success(), "{lang}: a wrong fixture passes");
        assert!(text.contains("decision: expected"), "{lang}: {text}");
    }
}
