//! The CNI protocol versions this plugin speaks, which verbs each allows,
//! and the answer to the VERSION verb.

use crate::env::Verb;
use serde::Serialize;

/// A CNI spec version Berth supports. Ordered, so "at least 0.4.0" is a
/// comparison rather than string matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CniVersion {
    V0_3_0,
    V0_3_1,
    V0_4_0,
    V1_0_0,
    V1_1_0,
}

/// Every version Berth speaks, oldest first (the order VERSION reports).
pub const SUPPORTED: [CniVersion; 5] = [
    CniVersion::V0_3_0,
    CniVersion::V0_3_1,
    CniVersion::V0_4_0,
    CniVersion::V1_0_0,
    CniVersion::V1_1_0,
];

/// The newest version; used when the request does not say which it speaks.
pub const LATEST: CniVersion = CniVersion::V1_1_0;

impl CniVersion {
    pub fn parse(text: &str) -> Option<Self> {
        SUPPORTED.into_iter().find(|v| v.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CniVersion::V0_3_0 => "0.3.0",
            CniVersion::V0_3_1 => "0.3.1",
            CniVersion::V0_4_0 => "0.4.0",
            CniVersion::V1_0_0 => "1.0.0",
            CniVersion::V1_1_0 => "1.1.0",
        }
    }

    /// Results before 1.0.0 tag each address with its family
    /// (`"version": "4"`); 1.0.0 removed the field.
    pub fn ips_carry_family(self) -> bool {
        self < CniVersion::V1_0_0
    }

    /// The oldest version that defines `verb`: CHECK arrived in 0.4.0, GC
    /// and STATUS in 1.1.0. A runtime speaking an older version cannot
    /// mean them, so the plugin refuses rather than guess.
    pub fn allows(self, verb: Verb) -> bool {
        let since = match verb {
            Verb::Check => CniVersion::V0_4_0,
            Verb::Gc | Verb::Status => CniVersion::V1_1_0,
            Verb::Add | Verb::Del | Verb::Version => CniVersion::V0_3_0,
        };
        self >= since
    }
}

#[derive(Serialize)]
struct VersionInfo<'a> {
    #[serde(rename = "cniVersion")]
    cni_version: &'a str,
    #[serde(rename = "supportedVersions")]
    supported_versions: Vec<&'static str>,
}

/// The VERSION answer. The spec asks the plugin to echo the `cniVersion` it
/// was given (runtimes send `{"cniVersion": ...}` to negotiate); with no
/// input, or no version in it, Berth answers with the newest it speaks.
/// The echoed version need not be supported: VERSION is how the runtime
/// finds that out.
pub fn version_answer(requested: Option<&str>) -> String {
    let info = VersionInfo {
        cni_version: requested.unwrap_or(LATEST.as_str()),
        supported_versions: SUPPORTED.iter().map(|v| v.as_str()).collect(),
    };
    // Serialising a struct of strings cannot fail; the fallback keeps the
    // binary free of panics all the same.
    serde_json::to_string(&info).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly_the_supported_versions() {
        for v in SUPPORTED {
            assert_eq!(CniVersion::parse(v.as_str()), Some(v));
        }
        for bad in ["0.2.0", "0.1.0", "1.2.0", "1.0", "", " 1.0.0", "v1.0.0"] {
            assert_eq!(CniVersion::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn family_tag_only_before_1_0_0() {
        assert!(CniVersion::V0_3_0.ips_carry_family());
        assert!(CniVersion::V0_3_1.ips_carry_family());
        assert!(CniVersion::V0_4_0.ips_carry_family());
        assert!(!CniVersion::V1_0_0.ips_carry_family());
        assert!(!CniVersion::V1_1_0.ips_carry_family());
    }

    #[test]
    fn verbs_need_the_version_that_introduced_them() {
        assert!(!CniVersion::V0_3_1.allows(Verb::Check));
        assert!(CniVersion::V0_4_0.allows(Verb::Check));
        assert!(!CniVersion::V1_0_0.allows(Verb::Gc));
        assert!(!CniVersion::V1_0_0.allows(Verb::Status));
        assert!(CniVersion::V1_1_0.allows(Verb::Gc));
        assert!(CniVersion::V1_1_0.allows(Verb::Status));
        assert!(CniVersion::V0_3_0.allows(Verb::Add));
        assert!(CniVersion::V0_3_0.allows(Verb::Del));
    }

    #[test]
    fn version_answer_echoes_request_or_latest() {
        let answer: serde_json::Value =
            serde_json::from_str(&version_answer(Some("0.4.0"))).expect("json");
        assert_eq!(answer["cniVersion"], "0.4.0");
        assert_eq!(
            answer["supportedVersions"],
            serde_json::json!(["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"])
        );
        let answer: serde_json::Value = serde_json::from_str(&version_answer(None)).expect("json");
        assert_eq!(answer["cniVersion"], "1.1.0");
    }
}
