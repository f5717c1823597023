//! The import allow-list, checked on the module's bytes (`scan.rs`) before
//! anything compiles or links it.
//!
//! Policies get a deny-by-default WASI: what the toolchains import
//! unconditionally (Rust std, componentize-py, componentize-js) is allowed,
//! because the runtime backs it with nothing (`sandbox.rs`): no preopened
//! directory, no socket, no environment, frozen clocks, seeded randomness,
//! timers that never wait (`no_wait.rs`), and `wasi:http` only as traps
//! (`link.rs`). Anything else (an unknown package, another major version,
//! `wasi:cli/run`, a bare function) is refused, naming the first import
//! that broke the rule.

use crate::scan::Import;

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

/// `wasi:filesystem`: componentize-py and componentize-js import it
/// unconditionally. No directory is preopened (`sandbox.rs`), so a guest
/// can name no file: every open fails.
const WASI_FILESYSTEM_ALLOWED: &[&str] = &["types", "preopens"];

/// `wasi:sockets` (componentize-py): creating a socket and resolving a
/// name are refused (`sandbox.rs`), and no address passes the check.
const WASI_SOCKETS_ALLOWED: &[&str] = &[
    "network",
    "instance-network",
    "tcp",
    "tcp-create-socket",
    "udp",
    "udp-create-socket",
    "ip-name-lookup",
];

/// `wasi:http` (componentize-js, for `fetch`): linked only as functions
/// that trap (`link.rs`), so a guest that tries fails its call.
const WASI_HTTP_TRAPPED: &[&str] = &["types", "outgoing-handler"];

/// How the host backs the imports of a component that passed the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backing {
    /// Everything it imports is in the runtime's linker.
    Linked,
    /// Some imports are linked as traps (`wasi:http`).
    WithTraps,
}

/// Checks every import of a scanned component: the first one outside the
/// allow-list is the `Err`.
pub(crate) fn check(imports: &[Import]) -> Result<Backing, String> {
    let mut backing = Backing::Linked;
    for import in imports {
        // Only whole interfaces may be imported: no bare functions,
        // modules or types the host never heard of. An `(implements ...)`
        // annotation must name an allowed interface too.
        let kind = if import.is_interface {
            classify(&import.name)
        } else {
            None
        };
        let implements = import.implements.as_deref().map(classify);
        match (kind, implements) {
            (Some(kind), None) => backing = backing.max(kind),
            (Some(kind), Some(Some(other))) => backing = backing.max(kind).max(other),
            _ => return Err(import.name.clone()),
        }
    }
    Ok(backing)
}

impl Backing {
    fn max(self, other: Self) -> Self {
        if self == Self::WithTraps || other == Self::WithTraps {
            Self::WithTraps
        } else {
            Self::Linked
        }
    }
}

/// Whether an allowed interface is linked as traps (`link.rs`).
pub(crate) fn is_trapped(name: &str) -> bool {
    classify(name) == Some(Backing::WithTraps)
}

/// How an interface name is backed, or `None` when it is refused.
fn classify(name: &str) -> Option<Backing> {
    let (path, version) = name.split_once('@').unwrap_or((name, ""));
    let (package, interface) = path.split_once('/')?;
    let wasi_02 = version.starts_with("0.2.");
    let linked = match package {
        // 0.1 components run unchanged (`contract.rs`); only 0.2 can ask.
        "berth:policy" => match interface {
            "host" | "types" => version.starts_with("0.1.") || version.starts_with("0.2."),
            "query" => version.starts_with("0.2."),
            _ => false,
        },
        // Safe only as the runtime backs them: frozen clocks, seeded
        // randomness, and timers and `poll` that never wait (`no_wait.rs`).
        "wasi:io" | "wasi:clocks" | "wasi:random" => wasi_02,
        "wasi:cli" => wasi_02 && WASI_CLI_ALLOWED.contains(&interface),
        "wasi:filesystem" => wasi_02 && WASI_FILESYSTEM_ALLOWED.contains(&interface),
        "wasi:sockets" => wasi_02 && WASI_SOCKETS_ALLOWED.contains(&interface),
        "wasi:http" => {
            return (wasi_02 && WASI_HTTP_TRAPPED.contains(&interface))
                .then_some(Backing::WithTraps)
        }
        _ => false,
    };
    linked.then_some(Backing::Linked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed_name(name: &str) -> bool {
        classify(name).is_some()
    }

    #[test]
    fn allow_list_by_name() {
        for ok in [
            "berth:policy/host@0.1.0",
            "berth:policy/types@0.1.3",
            "berth:policy/host@0.2.0",
            "berth:policy/types@0.2.1",
            "berth:policy/query@0.2.0",
            "wasi:io/streams@0.2.6",
            "wasi:io/error@0.2.0",
            "wasi:cli/environment@0.2.6",
            "wasi:cli/terminal-stdout@0.2.0",
            "wasi:clocks/wall-clock@0.2.6",
            "wasi:random/insecure-seed@0.2.6",
            "wasi:filesystem/preopens@0.2.9",
            "wasi:filesystem/types@0.2.12",
            "wasi:sockets/tcp@0.2.9",
            "wasi:sockets/ip-name-lookup@0.2.9",
            "wasi:http/outgoing-handler@0.2.10",
            "wasi:http/types@0.2.10",
        ] {
            assert!(allowed_name(ok), "{ok} should be allowed");
        }
        for bad in [
            "wasi:filesystem/types@0.3.0",
            "wasi:sockets/tcp@0.3.0",
            "wasi:http/incoming-handler@0.2.6",
            "wasi:http/proxy@0.2.6",
            "wasi:keyvalue/store@0.2.0",
            "wasi:cli/run@0.2.6",
            "wasi:io/streams@0.3.0",
            "berth:policy/host@0.3.0",
            "berth:policy/query@0.1.0",
            "berth:policy/policy@0.1.0",
            "berth:policy/policy@0.2.0",
            "berth:policy/host",
            "evil:pkg/host@0.1.0",
            "log",
        ] {
            assert!(!allowed_name(bad), "{bad} should be refused");
        }
    }

    fn interface(name: &str) -> Import {
        Import {
            name: name.to_owned(),
            is_interface: true,
            implements: None,
        }
    }

    #[test]
    fn http_is_backed_by_traps_and_the_rest_by_the_linker() {
        let js = ["wasi:io/poll@0.2.12", "wasi:http/types@0.2.10"].map(interface);
        assert_eq!(check(&js), Ok(Backing::WithTraps));
        let py = ["wasi:io/poll@0.2.9", "wasi:sockets/tcp@0.2.9"].map(interface);
        assert_eq!(check(&py), Ok(Backing::Linked));
    }

    #[test]
    fn bare_functions_and_bad_annotations_are_refused() {
        let mut function = interface("wasi:io/poll@0.2.6");
        function.is_interface = false;
        assert_eq!(check(&[function]), Err("wasi:io/poll@0.2.6".to_owned()));
        let mut disguised = interface("wasi:io/poll@0.2.6");
        disguised.implements = Some("wasi:keyvalue/store@0.2.0".to_owned());
        assert_eq!(check(&[disguised]), Err("wasi:io/poll@0.2.6".to_owned()));
    }
}
