//! Where a module's bytes come from, and the sha256 pin checked before
//! anything compiles them.

use crate::config::{PolicyConfig, PolicySource};
use crate::error::LoadError;
use crate::limits::POLICY_MODULE_BYTES_MAX;
use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

pub(crate) fn module_bytes(config: &PolicyConfig) -> Result<Cow<'static, [u8]>, LoadError> {
    let policy = || config.name.clone();
    match &config.source {
        PolicySource::Builtin(builtin) => berth_builtin_policies::get(builtin)
            .map(Cow::Borrowed)
            .ok_or_else(|| LoadError::UnknownBuiltin {
                policy: policy(),
                builtin: builtin.clone(),
                known: berth_builtin_policies::names().join(", "),
            }),
        PolicySource::File(path) => {
            // A file on the node is only as trustworthy as its pin; the
            // built-ins are pinned by the binary that embeds them.
            if config.sha256.is_none() {
                return Err(LoadError::MissingDigest {
                    policy: policy(),
                    path: path.clone(),
                });
            }
            read_module(&config.name, path).map(Cow::Owned)
        }
        PolicySource::Bytes(bytes) => {
            if bytes.len() > POLICY_MODULE_BYTES_MAX {
                return Err(too_large(&config.name, bytes.len() as u64));
            }
            Ok(Cow::Owned(bytes.to_vec()))
        }
    }
}

/// Reads at most one byte more than the limit, so a huge (or endless)
/// file is refused without being read whole.
fn read_module(policy: &str, path: &Path) -> Result<Vec<u8>, LoadError> {
    let read_error = |source| LoadError::Read {
        policy: policy.to_owned(),
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(POLICY_MODULE_BYTES_MAX as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() > POLICY_MODULE_BYTES_MAX {
        return Err(too_large(policy, bytes.len() as u64));
    }
    Ok(bytes)
}

fn too_large(policy: &str, size: u64) -> LoadError {
    LoadError::ModuleTooLarge {
        policy: policy.to_owned(),
        size,
        max: POLICY_MODULE_BYTES_MAX,
    }
}

pub(crate) fn check_digest(policy: &str, expected: &str, actual: &str) -> Result<(), LoadError> {
    let expected_lower = expected.trim().to_ascii_lowercase();
    if expected_lower.len() != 64 || !expected_lower.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(LoadError::BadDigest {
            policy: policy.to_owned(),
            digest: expected.to_owned(),
        });
    }
    if expected_lower != actual {
        return Err(LoadError::DigestMismatch {
            policy: policy.to_owned(),
            expected: expected_lower,
            actual: actual.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests() {
        let actual = "ab".repeat(32);
        assert!(check_digest("p", &"AB".repeat(32), &actual).is_ok());
        assert!(matches!(
            check_digest("p", "abc", &actual),
            Err(LoadError::BadDigest { .. })
        ));
        assert!(matches!(
            check_digest("p", &"cd".repeat(32), &actual),
            Err(LoadError::DigestMismatch { .. })
        ));
    }
}
