//! Assertions for table-driven policy tests.

use super::Harness;
use crate::{Decision, Policy};

/// Asserts that `got` is `want`: the same decision for `Ok`, or a
/// rejection whose reason contains the text for `Err`. `case` names the
/// table row in the failure message.
///
/// # Panics
/// When `got` is not what `want` asks for.
pub fn assert_decision(case: &str, got: Decision, want: Result<Decision, &str>) {
    match (got, want) {
        (got, Ok(want)) => assert_eq!(got, want, "{case}"),
        (Decision::Reject(reason), Err(want)) => {
            assert!(reason.contains(want), "{case}: {reason}")
        }
        (got, Err(want)) => panic!("{case}: got {got:?}, want a reject with {want:?}"),
    }
}

/// Asserts that `P` refuses `settings` at validation, with `want` in the
/// message.
///
/// # Panics
/// When the settings are accepted or the message lacks `want`.
pub fn assert_settings_refused<P: Policy>(settings: &str, want: &str) {
    let err = Harness::<P>::new(settings).err().unwrap_or_default();
    assert!(err.contains(want), "{settings}: {err}");
}
