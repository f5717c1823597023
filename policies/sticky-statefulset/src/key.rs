//! Identity keys must be 1..=253 bytes without whitespace or control
//! characters (the host refuses anything else as an invalid answer).

use berth_policy_sdk::limits::IDENTITY_KEY_BYTES_MAX as MAX;
use berth_policy_sdk::log;

/// Room kept for `~` and a 16-digit hash when a key is shortened.
const KEPT: usize = MAX - 17;

/// `raw` if it is a legal key; a deterministic shortened form if it is only
/// too long (long names stay distinct through the hash of the whole key);
/// `None`, with a warning, if it contains characters no key may hold.
pub fn bounded(raw: String) -> Option<String> {
    if raw.is_empty() || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        log::warn(&format!(
            "no sticky identity for {raw:?}: empty or has whitespace"
        ));
        return None;
    }
    if raw.len() <= MAX {
        return Some(raw);
    }
    let mut cut = KEPT;
    while !raw.is_char_boundary(cut) {
        cut -= 1;
    }
    Some(format!("{}~{:016x}", &raw[..cut], fnv1a(raw.as_bytes())))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_pass_unchanged() {
        assert_eq!(
            bounded("default/web/0".into()).as_deref(),
            Some("default/web/0")
        );
    }

    #[test]
    fn long_keys_are_shortened_deterministically_and_distinctly() {
        let a = "n/".to_owned() + &"a".repeat(300);
        let b = "n/".to_owned() + &"a".repeat(301);
        let ka = bounded(a.clone()).unwrap();
        assert_eq!(ka.len(), MAX);
        assert_eq!(bounded(a).unwrap(), ka);
        assert_ne!(bounded(b).unwrap(), ka);
        let multibyte = "é".repeat(200);
        assert!(bounded(multibyte).unwrap().len() <= MAX);
    }

    #[test]
    fn illegal_characters_give_no_key() {
        assert_eq!(bounded(String::new()), None);
        assert_eq!(bounded("default/a b".into()), None);
        assert_eq!(bounded("default/a\u{7}".into()), None);
    }
}
