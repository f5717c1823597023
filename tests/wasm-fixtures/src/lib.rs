//! Hostile policy components for the policy runtime's tests.
//!
//! Each is a real component built from `guests/<name>` with the SDK's
//! export macro and valid metadata, misbehaving in one way:
//!
//! | name                 | misbehaviour                                              |
//! |----------------------|-----------------------------------------------------------|
//! | `infinite-loop`      | evaluate never returns                                    |
//! | `memory-bomb`        | evaluate grows memory without bound                       |
//! | `trap`               | evaluate panics (a trap)                                  |
//! | `imports-filesystem` | evaluate reads a host file (imports `wasi:filesystem`)    |
//! | `illegal-pick`       | picks 203.0.113.77 in pool "nowhere"                      |
//! | `noisy-logger`       | logs 10,000 messages of 10 KiB each, then abstains        |
//! | `slow-identify`      | identify never returns (evaluate abstains)                |
//! | `bad-identity`       | identify returns an empty key (evaluate abstains)         |
//! | `sleeper`            | evaluate sleeps, or blocks on a timer or stdio (`how`)    |
//!
//! Dev-only: the nested wasm build runs in this crate's build script, so
//! nothing in a release build of the daemon pays for it.

include!(concat!(env!("OUT_DIR"), "/components.rs"));

/// The component bytes of the hostile guest `name` (e.g. `"trap"`).
///
/// # Panics
/// On an unknown name, listing the known ones: a typo in a test should say
/// so, not fail somewhere else.
pub fn component(name: &str) -> &'static [u8] {
    match COMPONENTS.iter().find(|(n, _)| *n == name) {
        Some((_, bytes)) => bytes,
        None => panic!("no hostile fixture named {name:?}; known: {NAMES:?}"),
    }
}

/// Names of every hostile guest.
pub fn names() -> &'static [&'static str] {
    NAMES
}
