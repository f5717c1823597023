//! The policies the daemon ships, as WebAssembly component bytes.
//!
//! `build.rs` compiles `policies/*` for `wasm32-wasip2` (release) with a
//! nested cargo and embeds the results, so the daemon binary carries its
//! default chain with no files to install.

// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

include!(concat!(env!("OUT_DIR"), "/components.rs"));

/// The policy a chain has when the operator configured none.
pub const DEFAULT_POLICY: &str = "sticky-statefulset";

/// The component bytes of a built-in policy.
pub fn get(name: &str) -> Option<&'static [u8]> {
    COMPONENTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
}

/// Names of every built-in policy.
pub fn names() -> &'static [&'static str] {
    NAMES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_has_a_component() {
        assert_eq!(
            names(),
            [
                "sticky-statefulset",
                "ordinal-pinned",
                "namespace-quota",
                "label-pool"
            ]
        );
        assert_eq!(names().len(), COMPONENTS.len());
        for name in names() {
            let bytes = get(name).unwrap_or_else(|| panic!("{name} missing"));
            // A component (not a core module): magic, then version 0x0d
            // and layer 1.
            assert_eq!(&bytes[..8], b"\0asm\x0d\x00\x01\x00", "{name}");
        }
        assert!(get(DEFAULT_POLICY).is_some());
        assert!(get("nope").is_none());
    }
}
