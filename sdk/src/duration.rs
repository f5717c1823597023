//! Durations in settings: "30s", "10m", "2h", "1d", or bare seconds.

use serde::{Deserialize, Deserializer};

/// Parses a duration into whole seconds. Accepts a bare integer (seconds)
/// or an integer with one unit suffix `s`, `m`, `h`, `d`. Overflow is an
/// error, never a wrap.
pub fn parse_secs(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], Some(c)),
        _ => (text, None),
    };
    let scale: u64 = match unit {
        None | Some('s') => 1,
        Some('m') => 60,
        Some('h') => 3_600,
        Some('d') => 86_400,
        Some(other) => {
            return Err(format!(
                "invalid duration {text:?}: unknown unit {other:?} (use s, m, h or d)"
            ))
        }
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "invalid duration {text:?}: expected a whole number with an optional unit, like \"30s\", \"10m\", \"2h\", \"1d\""
        ));
    }
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("invalid duration {text:?}: too large"))
}

/// A settings field holding a duration, written as a string ("10m") or as
/// a non-negative integer of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct DurationSecs(pub u64);

impl<'de> Deserialize<'de> for DurationSecs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Secs(u64),
            Text(String),
        }
        let raw = Raw::deserialize(d).map_err(|_| {
            serde::de::Error::custom(
                "expected a duration: seconds as a non-negative integer, or a string like \"10m\"",
            )
        })?;
        match raw {
            Raw::Secs(n) => Ok(Self(n)),
            Raw::Text(t) => parse_secs(&t).map(Self).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&str, Result<u64, &str>)] = &[
            ("0", Ok(0)),
            ("45", Ok(45)),
            ("30s", Ok(30)),
            ("10m", Ok(600)),
            ("2h", Ok(7_200)),
            ("1d", Ok(86_400)),
            (" 5m ", Ok(300)),
            ("18446744073709551615", Ok(u64::MAX)),
            ("18446744073709551615s", Ok(u64::MAX)),
            ("18446744073709551615m", Err("too large")),
            ("213503982334602d", Err("too large")),
            ("213503982334601d", Ok(18_446_744_073_709_526_400)),
            ("99999999999999999999", Err("too large")),
            ("", Err("expected a whole number")),
            ("s", Err("expected a whole number")),
            ("-5s", Err("expected a whole number")),
            ("1.5h", Err("expected a whole number")),
            ("10w", Err("unknown unit 'w'")),
            ("1h30m", Err("expected a whole number")),
        ];
        for (text, want) in cases {
            match (parse_secs(text), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, *want, "{text:?}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{text:?}: {got}"),
                (got, want) => panic!("{text:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn deserializes_from_string_or_integer() {
        let d: DurationSecs = serde_json::from_str("\"2h\"").unwrap();
        assert_eq!(d, DurationSecs(7_200));
        let d: DurationSecs = serde_json::from_str("90").unwrap();
        assert_eq!(d, DurationSecs(90));
        let err = serde_json::from_str::<DurationSecs>("-1").unwrap_err();
        assert!(err.to_string().contains("expected a duration"), "{err}");
        let err = serde_json::from_str::<DurationSecs>("\"ten\"").unwrap_err();
        assert!(
            err.to_string().contains("invalid duration \"ten\""),
            "{err}"
        );
    }
}
