//! `berth-policy new`: a project from the templates in `templates/`,
//! embedded in the binary. Every language gets the same policy (keep the
//! listed pools), the same settings and the same request fixtures, so
//! `berth-policy test fixtures/*.json` passes in each. Each project also
//! has native tests: `cargo test` (Rust, the SDK's harness), `python -m
//! unittest` (the `berth_policy` package) and `node --test` (the
//! `berth-policy` package), the packages copied in from `sdk/`.

use crate::project::{Language, POLICY_WIT};
use anyhow::{bail, Context, Result};
use std::path::Path;

const COMMON: &[(&str, &str)] = &[
    ("settings.json", include_str!("../templates/settings.json")),
    (
        "fixtures/keeps-listed-pool.json",
        include_str!("../templates/fixtures/keeps-listed-pool.json"),
    ),
    (
        "fixtures/rejects-unlisted-pools.json",
        include_str!("../templates/fixtures/rejects-unlisted-pools.json"),
    ),
    (
        ".gitignore",
        "/build/\n/target/\n/node_modules/\n__pycache__/\n",
    ),
];

const RUST: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../templates/rust/Cargo.toml")),
    ("src/lib.rs", include_str!("../templates/rust/src/lib.rs")),
];

/// A file of an SDK helper package, copied into every project of its
/// language (as the WIT is), so a project builds and tests out of the tree
/// with the package of the Berth it was made by.
macro_rules! sdk_file {
    ($lang:literal, $file:literal) => {
        (
            $file,
            include_str!(concat!("../../../sdk/", $lang, "/", $file)),
        )
    };
}

const PYTHON: &[(&str, &str)] = &[
    ("app.py", include_str!("../templates/python/app.py")),
    (
        "tests/__init__.py",
        include_str!("../templates/python/tests/__init__.py"),
    ),
    (
        "tests/test_fixtures.py",
        include_str!("../templates/python/tests/test_fixtures.py"),
    ),
    sdk_file!("python", "berth_policy/__init__.py"),
    sdk_file!("python", "berth_policy/chain.py"),
    sdk_file!("python", "berth_policy/convert.py"),
    sdk_file!("python", "berth_policy/fixtures.py"),
    sdk_file!("python", "berth_policy/query.py"),
    sdk_file!("python", "berth_policy/testing.py"),
    sdk_file!("python", "berth_policy/types.py"),
    ("wit/policy.wit", POLICY_WIT),
    // The componentize-py Berth builds and tests with.
    (
        "requirements.txt",
        include_str!("../../../scripts/policy-toolchains/requirements.txt"),
    ),
];

const JS: &[(&str, &str)] = &[
    ("policy.js", include_str!("../templates/js/policy.js")),
    (
        "test/fixtures.test.js",
        include_str!("../templates/js/test/fixtures.test.js"),
    ),
    sdk_file!("js", "berth-policy/chain.js"),
    sdk_file!("js", "berth-policy/convert.js"),
    sdk_file!("js", "berth-policy/fixtures.js"),
    sdk_file!("js", "berth-policy/hooks.js"),
    sdk_file!("js", "berth-policy/host.js"),
    sdk_file!("js", "berth-policy/index.js"),
    sdk_file!("js", "berth-policy/package.json"),
    sdk_file!("js", "berth-policy/query.js"),
    sdk_file!("js", "berth-policy/register.js"),
    sdk_file!("js", "berth-policy/scripts/types.js"),
    sdk_file!("js", "berth-policy/testing.js"),
    sdk_file!("js", "berth-policy/wit.js"),
    ("wit/policy.wit", POLICY_WIT),
    // The componentize-js Berth builds and tests with.
    (
        "package.json",
        include_str!("../../../scripts/policy-toolchains/package.json"),
    ),
];

pub fn create(name: &str, lang: Language, dir: &Path, sdk: &Path) -> Result<()> {
    check_name(name)?;
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        bail!("{} exists and is not empty", dir.display());
    }
    if lang == Language::Rust && !sdk.join("Cargo.toml").is_file() {
        bail!(
            "no Berth SDK at {} (give its directory with --sdk)",
            sdk.display()
        );
    }
    let sdk = sdk.canonicalize()?;
    let files = match lang {
        Language::Rust => RUST,
        Language::Python => PYTHON,
        Language::Js => JS,
    };
    for (path, text) in COMMON.iter().chain(files) {
        let mut text = text
            .replace("{{name}}", name)
            .replace("{{sdk}}", &sdk.display().to_string());
        if lang == Language::Js && *path == "package.json" {
            // policy.js and the tests are ES modules; the pinned file
            // (shared with scripts/setup-policy-toolchains) does not say so.
            text = text.replacen('{', "{\n  \"type\": \"module\",", 1);
        }
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// A name that is a valid policy name, crate name and file name.
fn check_name(name: &str) -> Result<()> {
    let ok = name.len() <= berth_policy_runtime::limits::POLICY_NAME_BYTES_MAX
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        bail!(
            "policy name {name:?}: use lowercase letters, digits and '-', starting with a letter, \
             at most {} bytes",
            berth_policy_runtime::limits::POLICY_NAME_BYTES_MAX
        );
    }
    Ok(())
}
