//! The `NAME URL SHA256 ...` arguments of `fetch-policy`, checked before any
//! download: a name becomes a file name in the download dir, so it must not
//! reach outside it or collide with the staging files.

use super::FetchError;
use std::collections::BTreeSet;

/// One `url` policy of the chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySource {
    pub name: String,
    pub url: String,
    /// 64 lowercase hex digits.
    pub sha256: String,
}

/// Parses the positional arguments, in groups of three.
pub fn parse(args: &[String]) -> Result<Vec<PolicySource>, FetchError> {
    if args.is_empty() || !args.len().is_multiple_of(3) {
        return Err(FetchError::Arity(args.len()));
    }
    let mut seen = BTreeSet::new();
    args.chunks_exact(3)
        .map(|triple| {
            let policy = check(&triple[0], &triple[1], &triple[2])?;
            if !seen.insert(policy.name.clone()) {
                return Err(FetchError::Duplicate(policy.name));
            }
            Ok(policy)
        })
        .collect()
}

fn check(name: &str, url: &str, sha256: &str) -> Result<PolicySource, FetchError> {
    // The chart's names are DNS labels; this is the looser rule that keeps
    // `<name>.wasm` and `.<name>.part` inside the directory.
    let plain = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && !name.contains("..")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !plain {
        return Err(FetchError::BadName(name.to_owned()));
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(FetchError::BadUrl {
            name: name.to_owned(),
            url: url.to_owned(),
        });
    }
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(FetchError::BadDigest {
            name: name.to_owned(),
            digest: sha256.to_owned(),
        });
    }
    Ok(PolicySource {
        name: name.to_owned(),
        url: url.to_owned(),
        sha256: sha256.to_ascii_lowercase(),
    })
}
