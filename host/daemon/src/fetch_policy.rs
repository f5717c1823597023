//! `berthd fetch-policy`: downloads the chart's `url` policies before berthd
//! starts, checking each against its pinned sha256. It replaces an init
//! container that needed `sh`, `curl` and `sha256sum` from another image,
//! so the Berth image needs nothing but our binaries.
//!
//! Each module is streamed into `<dir>/.<name>.part` (size-capped, hashed
//! on the way), and only a module whose digest matches is made read-only
//! and renamed to `<dir>/<name>.wasm`: berthd never sees a partial or
//! unverified file, and a refused download leaves nothing behind. The pin
//! is what makes the module trustworthy, so plain http is accepted.

mod args;
mod trust;

pub use args::{parse, PolicySource};

use crate::atomic_file::Staged;
use crate::limits::{
    FETCH_ATTEMPTS_MAX, FETCH_ATTEMPT_TIMEOUT_SECS, FETCH_CONNECT_TIMEOUT_SECS,
    FETCH_FIRST_BACKOFF_SECS, FETCH_MODULE_BYTES_MAX,
};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("expected NAME URL SHA256 triples, got {0} argument(s)")]
    Arity(usize),
    #[error(
        "policy name {0:?} is not a plain file name \
         (letters, digits, '-', '_' and '.'; no '/', no '..', not starting with '.')"
    )]
    BadName(String),
    #[error("policy {name}: sha256 {digest:?} is not 64 hex digits")]
    BadDigest { name: String, digest: String },
    #[error("policy {name}: {url:?} is not an http:// or https:// URL")]
    BadUrl { name: String, url: String },
    #[error("policy {0} is named twice")]
    Duplicate(String),
    #[error("policy {name}: GET {url} failed: {source}")]
    Http {
        name: String,
        url: String,
        source: ureq::Error,
    },
    #[error("policy {name}: reading {url} failed: {source}")]
    Read {
        name: String,
        url: String,
        source: io::Error,
    },
    #[error("policy {name}: {url} is larger than the limit of {max} bytes")]
    TooLarge { name: String, url: String, max: u64 },
    #[error(
        "policy {name}: sha256 mismatch for {url}: expected {expected}, got {actual}; \
         the download was discarded"
    )]
    DigestMismatch {
        name: String,
        url: String,
        expected: String,
        actual: String,
    },
    #[error("policy {name}: cannot write into {dir}: {source}")]
    Write {
        name: String,
        dir: PathBuf,
        source: io::Error,
    },
}

impl FetchError {
    /// Whether another attempt may succeed: network trouble and server-side
    /// errors may pass; a wrong digest, an oversized module, a 404 or a
    /// full disk will not.
    fn is_transient(&self) -> bool {
        match self {
            FetchError::Read { .. } => true,
            FetchError::Http { source, .. } => match source {
                ureq::Error::StatusCode(code) => *code >= 500 || *code == 408 || *code == 429,
                ureq::Error::BadUri(_) | ureq::Error::TooManyRedirects => false,
                // rustls reports a certificate it does not trust as
                // InvalidData: the same certificate comes back next time.
                ureq::Error::Io(e) => e.kind() != io::ErrorKind::InvalidData,
                _ => true,
            },
            _ => false,
        }
    }
}

/// Limits of one run; [`Limits::default`] is what the init container uses.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest module accepted (the chart's emptyDir holds 256 MiB).
    pub max_bytes: u64,
    /// Tries per module, the first included.
    pub attempts: u32,
    /// Pause before the second try; doubled for each further one.
    pub first_backoff: Duration,
    pub connect_timeout: Duration,
    /// Whole-request bound of one attempt (connect, headers and body).
    pub attempt_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: FETCH_MODULE_BYTES_MAX,
            attempts: FETCH_ATTEMPTS_MAX,
            first_backoff: Duration::from_secs(FETCH_FIRST_BACKOFF_SECS),
            connect_timeout: Duration::from_secs(FETCH_CONNECT_TIMEOUT_SECS),
            attempt_timeout: Duration::from_secs(FETCH_ATTEMPT_TIMEOUT_SECS),
        }
    }
}

/// A module in place, for the init container's log.
#[derive(Debug)]
pub struct Fetched {
    pub path: PathBuf,
    pub bytes: u64,
    /// Already there with the pinned digest (a restarted pod keeps its
    /// emptyDir): nothing was downloaded.
    pub reused: bool,
}

pub struct Fetcher {
    agent: ureq::Agent,
    limits: Limits,
    /// Which CAs https trusts, for the log.
    pub trust: String,
}

impl Fetcher {
    pub fn new(limits: Limits) -> Fetcher {
        let (roots, trust) = trust::root_certs();
        let agent = ureq::Agent::config_builder()
            .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build())
            .timeout_connect(Some(limits.connect_timeout))
            .timeout_global(Some(limits.attempt_timeout))
            .max_redirects(5)
            .user_agent(concat!("berthd/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Fetcher {
            agent,
            limits,
            trust,
        }
    }

    /// Puts `policy` at `<dir>/<name>.wasm`, retrying transient failures.
    pub fn fetch(&self, dir: &Path, policy: &PolicySource) -> Result<Fetched, FetchError> {
        let path = dir.join(format!("{}.wasm", policy.name));
        if let Some(bytes) = matching_file(&path, &policy.sha256) {
            return Ok(Fetched {
                path,
                bytes,
                reused: true,
            });
        }
        let mut backoff = self.limits.first_backoff;
        let mut attempt = 1;
        loop {
            match self.attempt(dir, &path, policy) {
                Ok(bytes) => {
                    return Ok(Fetched {
                        path,
                        bytes,
                        reused: false,
                    })
                }
                Err(e) if e.is_transient() && attempt < self.limits.attempts => {
                    eprintln!(
                        "attempt {attempt}/{} failed: {e}; retrying in {backoff:?}",
                        self.limits.attempts
                    );
                    std::thread::sleep(backoff);
                    backoff *= 2;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One download into the staging file; published only if the digest
    /// matches. On any error the staging file is removed (by `Staged`).
    fn attempt(&self, dir: &Path, dest: &Path, p: &PolicySource) -> Result<u64, FetchError> {
        let max = self.limits.max_bytes;
        let too_large = || FetchError::TooLarge {
            name: p.name.clone(),
            url: p.url.clone(),
            max,
        };
        let write_err = |source| FetchError::Write {
            name: p.name.clone(),
            dir: dir.to_owned(),
            source,
        };
        let mut response = self
            .agent
            .get(&p.url)
            .call()
            .map_err(|source| FetchError::Http {
                name: p.name.clone(),
                url: p.url.clone(),
                source,
            })?;
        let body = response.body_mut();
        // Refuse a declared oversize before writing anything; the count
        // below catches a server that does not declare it, or lies.
        if body.content_length().is_some_and(|len| len > max) {
            return Err(too_large());
        }
        let mut reader = body.as_reader().take(max + 1);
        let mut staged = Staged::create(dir, &format!(".{}.part", p.name)).map_err(write_err)?;
        let mut hasher = Sha256::new();
        let mut bytes = 0u64;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(FetchError::Read {
                        name: p.name.clone(),
                        url: p.url.clone(),
                        source,
                    })
                }
            };
            bytes += n as u64;
            if bytes > max {
                return Err(too_large());
            }
            hasher.update(&buf[..n]);
            staged.file().write_all(&buf[..n]).map_err(write_err)?;
        }
        let actual = hex::encode(hasher.finalize());
        if actual != p.sha256 {
            return Err(FetchError::DigestMismatch {
                name: p.name.clone(),
                url: p.url.clone(),
                expected: p.sha256.clone(),
                actual,
            });
        }
        // Read-only: berthd (another container) only ever reads it.
        staged.publish(dest, 0o444).map_err(write_err)?;
        Ok(bytes)
    }
}

/// The size of `path` if it exists and has the digest `sha256`. Any
/// problem reading it just means "download it again".
fn matching_file(path: &Path, sha256: &str) -> Option<u64> {
    let mut file = File::open(path).ok()?;
    let mut hasher = Sha256::new();
    let bytes = io::copy(&mut file, &mut hasher).ok()?;
    (hex::encode(hasher.finalize()) == sha256).then_some(bytes)
}

/// The subcommand: every policy is validated before the first download,
/// then fetched in order; the first failure fails the run (and the pod).
pub fn run(dir: &Path, args: &[String]) -> anyhow::Result<()> {
    let policies = parse(args)?;
    let fetcher = Fetcher::new(Limits::default());
    println!("https: {}", fetcher.trust);
    for policy in &policies {
        println!("fetching policy {} from {}", policy.name, policy.url);
        let done = fetcher.fetch(dir, policy)?;
        let how = if done.reused {
            "already present"
        } else {
            "downloaded"
        };
        println!(
            "{how}: {} ({} bytes, sha256 {} verified)",
            done.path.display(),
            done.bytes,
            policy.sha256
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests;
