//! What the built components import. The runtime refuses components that
//! import anything outside its allow-list; these tests pin down what Rust
//! std on wasm32-wasip2 pulls in, so a toolchain change that adds an
//! import shows up here first.

use wasmparser::{Parser, Payload};

/// Top-level imports of a component (nested modules' imports excluded).
fn imports(bytes: &[u8]) -> Vec<String> {
    let mut depth = 0usize;
    let mut names = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.expect("component parses") {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth -= 1,
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    names.push(import.expect("import parses").name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    names.sort();
    names
}

/// Strips the patch version: `wasi:io/streams@0.2.3` -> `wasi:io/streams@0.2`.
fn minor(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((head, _)) if name.starts_with("wasi:") => head.to_owned(),
        _ => name.to_owned(),
    }
}

/// What std on wasm32-wasip2 imports in a pure policy (measured with Rust
/// 1.95), plus the contract's own `berth:policy/host`.
const PURE_POLICY_IMPORTS: &[&str] = &[
    "berth:policy/host@0.2.0",
    "berth:policy/types@0.2.0",
    "wasi:cli/environment@0.2",
    "wasi:cli/exit@0.2",
    "wasi:cli/stderr@0.2",
    "wasi:cli/stdin@0.2",
    "wasi:cli/stdout@0.2",
    "wasi:cli/terminal-input@0.2",
    "wasi:cli/terminal-output@0.2",
    "wasi:cli/terminal-stderr@0.2",
    "wasi:cli/terminal-stdin@0.2",
    "wasi:cli/terminal-stdout@0.2",
    "wasi:io/error@0.2",
    "wasi:io/poll@0.2",
    "wasi:io/streams@0.2",
];

fn assert_only_allowed(what: &str, bytes: &[u8]) {
    let found = imports(bytes);
    eprintln!("{what}: {found:#?}");
    for name in &found {
        let name = minor(name);
        assert!(
            PURE_POLICY_IMPORTS.contains(&name.as_str()),
            "{what} imports {name}, outside {PURE_POLICY_IMPORTS:?}"
        );
    }
    assert!(found.iter().any(|n| n.starts_with("berth:policy/host@")));
}

#[test]
fn builtin_policies_import_only_the_pure_set() {
    for name in berth_builtin_policies::names() {
        let bytes = berth_builtin_policies::get(name).expect("listed policy exists");
        assert_only_allowed(name, bytes);
    }
}

/// Guests that import more than a pure policy on purpose.
const IMPURE_GUESTS: &[&str] = &["imports-filesystem", "sleeper"];

#[test]
fn hostile_guests_except_the_impure_ones_import_only_the_pure_set() {
    for name in berth_wasm_fixtures::names() {
        if !IMPURE_GUESTS.contains(name) {
            assert_only_allowed(name, berth_wasm_fixtures::component(name));
        }
    }
}

#[test]
fn the_filesystem_guest_imports_wasi_filesystem() {
    // The runtime allows the import (componentize-py needs it) and
    // preopens nothing; `hostile.rs` checks the guest then reads nothing.
    let found = imports(berth_wasm_fixtures::component("imports-filesystem"));
    eprintln!("imports-filesystem: {found:#?}");
    assert!(
        found.iter().any(|n| n.starts_with("wasi:filesystem/")),
        "{found:?}"
    );
}

#[test]
fn the_sleeper_imports_the_monotonic_clock_and_nothing_refused() {
    // It must get past the runtime's allow-list (which admits
    // `wasi:clocks`), or it would test the allow-list instead of what a
    // timer does.
    let found = imports(berth_wasm_fixtures::component("sleeper"));
    eprintln!("sleeper: {found:#?}");
    assert!(
        found
            .iter()
            .any(|n| n.starts_with("wasi:clocks/monotonic-clock@0.2.")),
        "{found:?}"
    );
    for name in &found {
        let name = minor(name);
        assert!(
            PURE_POLICY_IMPORTS.contains(&name.as_str()) || name.starts_with("wasi:clocks/"),
            "sleeper imports {name}"
        );
    }
}

#[test]
fn every_fixture_is_a_component() {
    assert_eq!(berth_wasm_fixtures::names().len(), 9);
    for name in berth_wasm_fixtures::names() {
        let bytes = berth_wasm_fixtures::component(name);
        assert_eq!(&bytes[..8], b"\0asm\x0d\x00\x01\x00", "{name}");
    }
}

#[test]
#[should_panic(expected = "no hostile fixture named \"nope\"")]
fn unknown_names_panic_clearly() {
    berth_wasm_fixtures::component("nope");
}
