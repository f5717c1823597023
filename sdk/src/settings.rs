//! Settings arrive as a JSON string; this is the one place they are parsed.

use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Settings of a policy that takes none: accepts `""`, `null` and `{}`,
/// refuses any field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoSettings {}

/// Parses a policy's JSON settings.
///
/// An empty (or all-whitespace) string and `null` mean "default settings".
/// Errors name the offending field path, e.g.
/// `settings.holdAfterScaleDown: invalid duration "ten"`. Unknown fields are
/// refused only when the settings type says so with
/// `#[serde(deny_unknown_fields)]`, which every policy should use: a typo in
/// a setting must fail at load, not silently change behaviour.
pub fn parse_settings<S: DeserializeOwned + Default>(json: &str) -> Result<S, String> {
    let trimmed = json.trim();
    if trimmed.is_empty() || trimmed == "null" {
        return Ok(S::default());
    }
    let mut de = serde_json::Deserializer::from_str(trimmed);
    let parsed: S = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        // "?" is how serde_path_to_error spells "failed before any field".
        if path == "." || path.is_empty() || path == "?" {
            format!("settings: {inner}")
        } else if path.starts_with('[') {
            format!("settings{path}: {inner}")
        } else {
            format!("settings.{path}: {inner}")
        }
    })?;
    de.end()
        .map_err(|err| format!("settings: trailing characters after the JSON value ({err})"))?;
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct S {
        #[serde(default)]
        max_per_pool: u32,
        #[serde(default)]
        inner: Inner,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        #[serde(default)]
        names: Vec<String>,
    }

    #[test]
    fn empty_and_null_mean_default() {
        for text in ["", "  ", "null", " null\n"] {
            assert_eq!(parse_settings::<S>(text), Ok(S::default()), "{text:?}");
        }
    }

    #[test]
    fn parses_fields() {
        let s: S = parse_settings(r#"{"maxPerPool": 3, "inner": {"names": ["a"]}}"#).unwrap();
        assert_eq!(s.max_per_pool, 3);
        assert_eq!(s.inner.names, ["a"]);
    }

    #[test]
    fn errors_name_the_field() {
        let err = parse_settings::<S>(r#"{"maxPerPool": "x"}"#).unwrap_err();
        assert!(
            err.starts_with("settings.maxPerPool: invalid type"),
            "{err}"
        );
        let err = parse_settings::<S>(r#"{"inner": {"names": [1]}}"#).unwrap_err();
        assert!(
            err.starts_with("settings.inner.names[0]: invalid type"),
            "{err}"
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = parse_settings::<S>(r#"{"maxPerPol": 3}"#).unwrap_err();
        assert!(err.contains("unknown field `maxPerPol`"), "{err}");
    }

    #[test]
    fn no_settings_refuses_fields() {
        for text in ["", "null", "{}"] {
            assert_eq!(parse_settings::<NoSettings>(text), Ok(NoSettings {}));
        }
        let err = parse_settings::<NoSettings>(r#"{"x": 1}"#).unwrap_err();
        assert!(err.contains("unknown field `x`"), "{err}");
    }

    #[test]
    fn malformed_json_is_refused() {
        assert!(parse_settings::<S>("{").is_err());
        assert!(parse_settings::<S>("{} {}").is_err());
        assert!(parse_settings::<S>("3").is_err());
    }
}
