//! StatefulSet ordinals from pod names.

/// Splits a StatefulSet pod name `<base>-<n>` into `(base, n)`.
///
/// The host already sends `stateful_set.ordinal` when it knows the owner;
/// this is for policies that match pods by name (single-host users without
/// Kubernetes). `n` must be plain decimal digits with no sign and no leading
/// zero (Kubernetes never writes `web-01`), and fit in `u32`.
pub fn from_pod_name(name: &str) -> Option<(&str, u32)> {
    let (base, digits) = name.rsplit_once('-')?;
    if base.is_empty() || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    digits.parse().ok().map(|n| (base, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&str, Option<(&str, u32)>)] = &[
            ("test-sts-0", Some(("test-sts", 0))),
            ("test-sts-12", Some(("test-sts", 12))),
            ("web-4294967295", Some(("web", u32::MAX))),
            ("web-4294967296", None),
            ("web-01", None),
            ("web-", None),
            ("-3", None),
            ("web", None),
            ("web-+3", None),
            ("web-3a", None),
            ("web-٣", None),
        ];
        for (name, want) in cases {
            assert_eq!(from_pod_name(name), *want, "{name}");
        }
    }
}
