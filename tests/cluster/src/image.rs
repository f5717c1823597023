//! The chart's image, built from this checkout by `scripts/build-image
//! --profile debug` (tests) or `--profile release` (benchmarks) and
//! unpacked by `scripts/unpack-image`, once per test process (and reused
//! across processes while the archive is unchanged).
//!
//! The build runs cargo in its own target dir (`target/image-build`): the
//! cargo that runs the tests may still hold the lock of the normal one.
//! `BERTH_IMAGE_ARCHIVE` names a prebuilt archive instead (CI can build it
//! once before the tests).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::binaries::repo_root;
use crate::process::log_tail;

/// A prebuilt image archive to use instead of building one.
pub const ARCHIVE_ENV: &str = "BERTH_IMAGE_ARCHIVE";
/// Where the image's cargo build, archive and unpacked roots live.
pub const IMAGE_DIR_ENV: &str = "BERTH_IMAGE_BUILD_DIR";

#[derive(Debug)]
pub struct Image {
    pub archive: PathBuf,
    /// The unpacked root filesystem; never written by containers.
    pub rootfs: PathBuf,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// How the image's binaries are compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImageProfile {
    /// Quicker to build; what the tests run.
    #[default]
    Debug,
    /// What users run; what benchmarks measure.
    Release,
}

impl ImageProfile {
    fn name(self) -> &'static str {
        match self {
            ImageProfile::Debug => "debug",
            ImageProfile::Release => "release",
        }
    }
}

/// One image per profile per process.
static IMAGES: Mutex<[Option<Arc<Image>>; 2]> = Mutex::new([None, None]);

impl Image {
    /// The debug image, built and unpacked on first use in this process.
    /// Blocking (the first call may build for minutes).
    pub fn get() -> Result<Arc<Image>> {
        Self::get_profile(ImageProfile::Debug)
    }

    /// The image built with `profile`, as [`Self::get`]. `BERTH_IMAGE_ARCHIVE`
    /// overrides both profiles.
    pub fn get_profile(profile: ImageProfile) -> Result<Arc<Image>> {
        let mut images = IMAGES
            .lock()
            .map_err(|_| anyhow::anyhow!("an earlier image build panicked"))?;
        let slot = &mut images[profile as usize];
        if let Some(image) = slot.as_ref() {
            return Ok(image.clone());
        }
        let dir = build_dir();
        std::fs::create_dir_all(&dir)?;
        // Test processes may run side by side (nextest, scripts/cluster):
        // one builds and unpacks at a time.
        let lock = std::fs::File::create(dir.join(".lock"))?;
        lock.lock()?;
        let archive = match std::env::var_os(ARCHIVE_ENV) {
            Some(path) => PathBuf::from(path),
            None => build(&dir, profile)?,
        };
        let image = Arc::new(unpack(&archive, &dir)?);
        *slot = Some(image.clone());
        Ok(image)
    }
}

/// Where the musl builds go (`$BERTH_IMAGE_BUILD_DIR`, else
/// `target/image-build`): other release archives built in tests share it,
/// so the static dependencies are compiled once.
pub fn build_dir() -> PathBuf {
    std::env::var_os(IMAGE_DIR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/image-build"))
}

fn build(dir: &Path, profile: ImageProfile) -> Result<PathBuf> {
    let archive = dir.join(format!("berth-{}.oci.tar", profile.name()));
    let log = dir.join("build.log");
    let started = Instant::now();
    let out = std::fs::File::create(&log)?;
    let status = Command::new(repo_root().join("scripts/build-image"))
        .args(["--profile", profile.name(), "--output"])
        .arg(&archive)
        .env("CARGO_TARGET_DIR", dir)
        .stdout(out.try_clone()?)
        .stderr(out)
        .status()
        .context("running scripts/build-image")?;
    if !status.success() {
        bail!(
            "scripts/build-image --profile {} failed ({status}); {}:\n{}",
            profile.name(),
            log.display(),
            log_tail(&log)
        );
    }
    eprintln!(
        "berth-cluster: image built (or found current) in {:.1?}: {}",
        started.elapsed(),
        archive.display()
    );
    Ok(archive)
}

/// Unpacked roots of earlier builds are removed once they are an hour old
/// (75 MB each, one per product change): younger ones may still serve a
/// test process or `scripts/cluster up` started before this build.
const PRUNE_AFTER: Duration = Duration::from_secs(3600);

fn prune(dir: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > PRUNE_AFTER);
        if !(name.starts_with("rootfs-") && name.ends_with(".json") && old) {
            continue;
        }
        let root = path.with_extension("");
        if root != keep {
            let _ = std::fs::remove_file(&path);
            let _ = std::fs::remove_dir_all(&root);
        }
    }
}

/// Unpacks into `rootfs-<digest>` next to the build, once per archive
/// content: a finished root is marked by its `image-config.json`.
fn unpack(archive: &Path, dir: &Path) -> Result<Image> {
    let digest = crate::netns::run("sha256sum", &[&archive.to_string_lossy()])?;
    let digest = digest.split_whitespace().next().unwrap_or_default();
    let rootfs = dir.join(format!("rootfs-{}", &digest[..16.min(digest.len())]));
    let config_file = dir.join(format!("rootfs-{}.json", &digest[..16.min(digest.len())]));
    if !config_file.is_file() {
        let _ = std::fs::remove_dir_all(&rootfs);
        let out = Command::new(repo_root().join("scripts/unpack-image"))
            .arg(archive)
            .arg(&rootfs)
            .output()
            .context("running scripts/unpack-image")?;
        if !out.status.success() {
            bail!(
                "scripts/unpack-image {} failed: {}",
                archive.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::fs::write(&config_file, &out.stdout)?;
        prune(dir, &rootfs);
    }
    let config: Value = serde_json::from_slice(&std::fs::read(&config_file)?)
        .with_context(|| format!("reading {}", config_file.display()))?;
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    let env = strings(&config["Env"])
        .into_iter()
        .filter_map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    Ok(Image {
        archive: archive.to_path_buf(),
        rootfs,
        entrypoint: strings(&config["Entrypoint"]),
        cmd: strings(&config["Cmd"]),
        env,
    })
}
