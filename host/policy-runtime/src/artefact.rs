//! Compiled policies kept on disk, so a restart or a reload loads a module
//! in milliseconds instead of compiling it again (tens of milliseconds for
//! a Rust policy, seconds for componentize-py and componentize-js ones).
//!
//! A file is keyed by the module's sha256 and the engine's fingerprint:
//! the artefact wasmtime makes of an empty component, which carries
//! wasmtime's version, the target, the compiler flags and every tunable
//! wasmtime checks when it loads an artefact. Another wasmtime, or the
//! same one configured otherwise (fuel on, other memory caps), looks for
//! other files. The file holds a magic line, the sha256 of the artefact
//! and the artefact: a truncated or corrupted file fails the sum and is
//! compiled again and rewritten, and an artefact wasmtime refuses (it
//! checks version and flags itself) is too. The cache never decides
//! whether a load succeeds: when it cannot be read or written, the module
//! is compiled in memory as without it.
//!
//! Loading an artefact runs its machine code, so the directory must be
//! writable by berthd alone: it is created mode 0700, and the sum guards
//! against accidents, not against someone who can write there.

// `Component::deserialize` is unsafe: it runs what the file holds.
#![allow(unsafe_code)]

use sha2::{Digest, Sha256};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;
use wasmtime::component::Component;
use wasmtime::Engine;

/// First bytes of every cache file; bumped when the layout changes.
const MAGIC: &[u8; 16] = b"berth-cwasm-v1\n\0";
const SUM_BYTES: usize = 32;

/// The smallest component there is (magic, component-model version,
/// layer): compiled once to fingerprint the engine.
const EMPTY_COMPONENT: &[u8] = &[0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

/// How a module came to be compiled: for logs, metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArtefactOutcome {
    /// Loaded from its cache file.
    Loaded,
    /// No usable file: compiled, and the file written.
    Compiled,
    /// A file was there but was damaged or refused by wasmtime: compiled
    /// again and the file replaced.
    Replaced,
}

/// A directory of precompiled policies.
pub(crate) struct ArtefactCache {
    dir: PathBuf,
    fingerprint: OnceLock<Result<String, String>>,
    /// Distinguishes temporary files of concurrent writers in one process.
    writes: AtomicU64,
}

impl ArtefactCache {
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            fingerprint: OnceLock::new(),
            writes: AtomicU64::new(0),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The component of `bytes` (whose sha256 is `digest`), from its cache
    /// file when one is usable, else compiled and written down.
    pub fn component(
        &self,
        engine: &Engine,
        digest: &str,
        bytes: &[u8],
    ) -> wasmtime::Result<(Component, ArtefactOutcome)> {
        let path = match self.path_of(engine, digest) {
            Ok(path) => path,
            Err(message) => {
                tracing::warn!(target: crate::LOG_TARGET, %message, "policy cache unusable; compiling in memory");
                return Ok((Component::new(engine, bytes)?, ArtefactOutcome::Compiled));
            }
        };
        let mut outcome = ArtefactOutcome::Compiled;
        match read_artefact(&path) {
            Ok(Some(file)) => {
                let artefact = &file[MAGIC.len() + SUM_BYTES..];
                // SAFETY: `artefact` is what `Engine::precompile_component`
                // of an engine with this fingerprint wrote into a directory
                // only berthd can write (module comment), intact by its sum;
                // wasmtime still checks its version and flags and refuses a
                // mismatch, which lands below.
                match unsafe { Component::deserialize(engine, artefact) } {
                    Ok(component) => return Ok((component, ArtefactOutcome::Loaded)),
                    Err(error) => {
                        tracing::warn!(target: crate::LOG_TARGET, path = %path.display(), error = %format!("{error:#}"), "cached policy artefact refused; compiling again");
                        outcome = ArtefactOutcome::Replaced;
                    }
                }
            }
            Ok(None) => {}
            Err(problem) => {
                tracing::warn!(target: crate::LOG_TARGET, path = %path.display(), %problem, "cached policy artefact damaged; compiling again");
                outcome = ArtefactOutcome::Replaced;
            }
        }
        let artefact = engine.precompile_component(bytes)?;
        // SAFETY: made by this engine a moment ago, never left memory.
        let component = unsafe { Component::deserialize(engine, &artefact) }?;
        if let Err(error) = self.write(&path, &artefact) {
            tracing::warn!(target: crate::LOG_TARGET, path = %path.display(), %error, "cannot write the policy cache; the next load compiles again");
        }
        Ok((component, outcome))
    }

    /// Whether the module of `digest` has a cache file to load (not
    /// whether the file is intact: loading checks that).
    pub fn has(&self, engine: &Engine, digest: &str) -> bool {
        self.path_of(engine, digest)
            .is_ok_and(|path| path.is_file())
    }

    fn path_of(&self, engine: &Engine, digest: &str) -> Result<PathBuf, String> {
        let fingerprint = self
            .fingerprint
            .get_or_init(|| fingerprint(engine))
            .as_ref()
            .map_err(Clone::clone)?;
        Ok(self.dir.join(format!("{digest}-{fingerprint}.cwasm")))
    }

    /// Writes to a temporary file and renames it over `path`: a reader
    /// sees the old file, the new one, or none, never half of one.
    fn write(&self, path: &Path, artefact: &[u8]) -> std::io::Result<()> {
        create_private_dir(&self.dir)?;
        let n = self.writes.fetch_add(1, Relaxed);
        let temporary = self
            .dir
            .join(format!(".tmp-{}-{n}.cwasm", std::process::id()));
        let written = (|| {
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(MAGIC)?;
            file.write_all(&Sha256::digest(artefact))?;
            file.write_all(artefact)?;
            std::fs::rename(&temporary, path)
        })();
        if written.is_err() {
            // Best effort: the write already failed, and a stray temporary
            // file is only wasted space.
            let _ = std::fs::remove_file(&temporary);
        }
        written
    }
}

/// Hex sha256 (first 16 bytes) of the engine's artefact of the empty
/// component: changes with anything wasmtime would refuse an artefact for.
fn fingerprint(engine: &Engine) -> Result<String, String> {
    let artefact = engine
        .precompile_component(EMPTY_COMPONENT)
        .map_err(|e| format!("fingerprinting the engine: {e:#}"))?;
    Ok(hex::encode(&Sha256::digest(&artefact)[..16]))
}

/// The file at `path`, its sum checked (the artefact starts after the
/// sum); `None` when there is no file; `Err` when the file is not one
/// this cache wrote whole.
fn read_artefact(path: &Path) -> Result<Option<Vec<u8>>, String> {
    let file = match std::fs::read(path) {
        Ok(file) => file,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            return Ok(None)
        }
        Err(e) => return Err(format!("cannot read it: {e}")),
    };
    if file.len() < MAGIC.len() + SUM_BYTES || !file.starts_with(MAGIC) {
        return Err(format!("{} bytes, not a berth policy artefact", file.len()));
    }
    let (sum, artefact) = file[MAGIC.len()..].split_at(SUM_BYTES);
    if Sha256::digest(artefact).as_slice() != sum {
        return Err("checksum mismatch (truncated or corrupted)".to_owned());
    }
    Ok(Some(file))
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(test)]
#[path = "artefact_tests.rs"]
mod tests;
