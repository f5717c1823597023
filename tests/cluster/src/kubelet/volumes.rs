//! ConfigMap-backed volumes, kept in sync the way the kubelet does it:
//! the files are written into a fresh hidden directory, and one rename of
//! the `..data` symlink switches the whole volume to it. The visible
//! names are symlinks through `..data`, so a reader (berthd polling
//! berthd.json) sees either the old set of files or the new one, never a
//! mix and never a half-written file.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{bail, Context, Result};
use k8s_openapi::api::core::v1::{ConfigMap, KeyToPath, Volume};
use kube::Api;

const DATA: &str = "..data";
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The files (relative path → content) that `volume` holds now, read from
/// the ConfigMaps of `namespace`.
pub async fn volume_files(
    client: &kube::Client,
    namespace: &str,
    volume: &Volume,
) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut sources = Vec::new();
    if let Some(cm) = &volume.config_map {
        sources.push((cm.name.clone(), cm.items.clone(), cm.optional == Some(true)));
    }
    if let Some(projected) = &volume.projected {
        for source in projected.sources.iter().flatten() {
            match &source.config_map {
                Some(cm) => {
                    sources.push((cm.name.clone(), cm.items.clone(), cm.optional == Some(true)))
                }
                None => bail!(
                    "volume {}: only configMap projections are supported",
                    volume.name
                ),
            }
        }
    }
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let mut files = BTreeMap::new();
    for (name, items, optional) in sources {
        let Some(cm) = api.get_opt(&name).await? else {
            if optional {
                continue;
            }
            bail!("ConfigMap {namespace}/{name} does not exist");
        };
        let mut data: BTreeMap<String, Vec<u8>> = cm
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.into_bytes()))
            .collect();
        data.extend(
            cm.binary_data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0)),
        );
        match items {
            Some(items) => {
                for KeyToPath { key, path, .. } in items {
                    let content = data
                        .get(&key)
                        .with_context(|| format!("ConfigMap {name} has no key {key}"))?;
                    files.insert(path, content.clone());
                }
            }
            None => files.extend(data),
        }
    }
    Ok(files)
}

/// Makes `dir` hold exactly `files`; returns whether anything changed.
pub fn write_atomically(dir: &Path, files: &BTreeMap<String, Vec<u8>>) -> Result<bool> {
    std::fs::create_dir_all(dir)?;
    if current_files(dir)?.as_ref() == Some(files) {
        return Ok(false);
    }
    let generation = format!(
        "..{}_{}",
        std::process::id(),
        GENERATION.fetch_add(1, Ordering::Relaxed)
    );
    let staged = dir.join(&generation);
    for (path, content) in files {
        if path.split('/').any(|part| part.is_empty() || part == "..") || path.starts_with('.') {
            bail!("refusing volume path {path:?}");
        }
        let target = staged.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, content)
            .with_context(|| format!("writing {}", target.display()))?;
    }
    std::fs::create_dir_all(&staged)?;
    let old = std::fs::read_link(dir.join(DATA)).ok();
    let tmp = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&generation, &tmp)?;
    // The one step readers can observe.
    std::fs::rename(&tmp, dir.join(DATA))?;
    let top: std::collections::BTreeSet<&str> =
        files.keys().filter_map(|p| p.split('/').next()).collect();
    for name in &top {
        let link = dir.join(name);
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(format!("{DATA}/{name}"), &link)?;
        }
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("..") && !top.contains(name.as_str()) {
            std::fs::remove_file(entry.path())?;
        }
    }
    if let Some(old) = old {
        let _ = std::fs::remove_dir_all(dir.join(old));
    }
    Ok(true)
}

/// What the volume shows now, or `None` before the first write.
fn current_files(dir: &Path) -> Result<Option<BTreeMap<String, Vec<u8>>>> {
    let data = dir.join(DATA);
    if std::fs::symlink_metadata(&data).is_err() {
        return Ok(None);
    }
    let mut files = BTreeMap::new();
    collect(&data, "", &mut files)?;
    Ok(Some(files))
}

fn collect(dir: &Path, prefix: &str, files: &mut BTreeMap<String, Vec<u8>>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type()?.is_dir() {
            collect(&entry.path(), &format!("{name}/"), files)?;
        } else {
            files.insert(name, std::fs::read(entry.path())?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewrite_swaps_every_file_at_once_and_drops_removed_ones() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let v1 = BTreeMap::from([
            ("berthd.json".to_string(), b"{\"a\":1}".to_vec()),
            ("policies/q/q.wasm".to_string(), b"wasm".to_vec()),
        ]);
        assert!(write_atomically(dir.path(), &v1)?);
        assert!(
            !write_atomically(dir.path(), &v1)?,
            "unchanged content is no write"
        );
        assert_eq!(std::fs::read(dir.path().join("berthd.json"))?, b"{\"a\":1}");
        assert_eq!(
            std::fs::read(dir.path().join("policies/q/q.wasm"))?,
            b"wasm"
        );

        let v2 = BTreeMap::from([("berthd.json".to_string(), b"{\"a\":2}".to_vec())]);
        assert!(write_atomically(dir.path(), &v2)?);
        assert_eq!(std::fs::read(dir.path().join("berthd.json"))?, b"{\"a\":2}");
        assert!(!dir.path().join("policies").exists());
        // Only the current generation is left behind.
        let hidden: Vec<_> = std::fs::read_dir(dir.path())?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("..") && n != DATA)
            .collect();
        assert_eq!(hidden.len(), 1, "{hidden:?}");
        Ok(())
    }
}
