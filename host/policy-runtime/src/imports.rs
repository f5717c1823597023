//! The import allow-list, checked at load before anything is linked.
//!
//! The linker carries all of WASI p2 (that is how wasmtime-wasi ships it),
//! so the allow-list, not the linker, is what keeps filesystem, sockets and
//! anything unknown away from policies. A refused component names the
//! first import that broke the rule.

use wasmtime::component::types::{ComponentExtern, ComponentItem};
use wasmtime::component::Component;
use wasmtime::Engine;

/// `wasi:cli` interfaces std imports even for pure code.
const WASI_CLI_ALLOWED: &[&str] = &[
    "environment",
    "exit",
    "stdin",
    "stdout",
    "stderr",
    "terminal-input",
    "terminal-output",
    "terminal-stdin",
    "terminal-stdout",
    "terminal-stderr",
];

/// The first import of `component` outside the allow-list, if any.
pub(crate) fn forbidden_import(component: &Component, engine: &Engine) -> Option<String> {
    component
        .component_type()
        .imports(engine)
        .find(|(name, import)| !allowed(name, import))
        .map(|(name, _)| name.to_owned())
}

fn allowed(name: &str, import: &ComponentExtern<'_>) -> bool {
    // Only whole interfaces may be imported: no bare functions, modules or
    // types the host never heard of. An `(implements ...)` annotation must
    // name an allowed interface too.
    matches!(import.ty, ComponentItem::ComponentInstance(_))
        && allowed_name(name)
        && import.implements.is_none_or(allowed_name)
}

fn allowed_name(name: &str) -> bool {
    let (path, version) = name.split_once('@').unwrap_or((name, ""));
    let Some((package, interface)) = path.split_once('/') else {
        return false;
    };
    match package {
        "berth:policy" => version.starts_with("0.1.") && matches!(interface, "host" | "types"),
        // Safe only as the runtime backs them: frozen clocks, seeded
        // randomness, and timers and `poll` that never wait (`no_wait.rs`).
        "wasi:io" | "wasi:clocks" | "wasi:random" => version.starts_with("0.2."),
        "wasi:cli" => version.starts_with("0.2.") && WASI_CLI_ALLOWED.contains(&interface),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::allowed_name;

    #[test]
    fn allow_list_by_name() {
        for ok in [
            "berth:policy/host@0.1.0",
            "berth:policy/types@0.1.3",
            "wasi:io/streams@0.2.6",
            "wasi:io/error@0.2.0",
            "wasi:cli/environment@0.2.6",
            "wasi:cli/terminal-stdout@0.2.0",
            "wasi:clocks/wall-clock@0.2.6",
            "wasi:random/insecure-seed@0.2.6",
        ] {
            assert!(allowed_name(ok), "{ok} should be allowed");
        }
        for bad in [
            "wasi:filesystem/types@0.2.6",
            "wasi:filesystem/preopens@0.2.6",
            "wasi:sockets/tcp@0.2.6",
            "wasi:sockets/ip-name-lookup@0.2.6",
            "wasi:http/outgoing-handler@0.2.6",
            "wasi:cli/run@0.2.6",
            "wasi:io/streams@0.3.0",
            "berth:policy/host@0.2.0",
            "berth:policy/policy@0.1.0",
            "berth:policy/host",
            "evil:pkg/host@0.1.0",
            "log",
        ] {
            assert!(!allowed_name(bad), "{bad} should be refused");
        }
    }
}
