//! Builds the shipped policies into components and writes an index that
//! `include_bytes!`s them into this crate.

use berth_wasm_build::{build_components, Profile};
use std::path::{Path, PathBuf};

const POLICIES: &[&str] = &[
    "sticky-statefulset",
    "ordinal-pinned",
    "namespace-quota",
    "label-pool",
];

fn main() {
    if let Err(err) = run() {
        println!("cargo::error={err}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let root = manifest_dir
        .ancestors()
        .nth(2)
        .ok_or("crate is not two levels below the workspace root")?;
    let built = build_components(root, POLICIES, Profile::Release)?;
    let mut index = String::from("pub(crate) static COMPONENTS: &[(&str, &[u8])] = &[\n");
    for (name, path) in &built {
        index.push_str(&format!(
            "    ({name:?}, include_bytes!({:?})),\n",
            path_str(path)?
        ));
    }
    index.push_str("];\n");
    index.push_str(&format!(
        "pub(crate) static NAMES: &[&str] = &{POLICIES:?};\n"
    ));
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("components.rs");
    std::fs::write(out, index)?;
    Ok(())
}

fn path_str(path: &Path) -> Result<&str, String> {
    path.to_str()
        .ok_or_else(|| format!("component path {} is not UTF-8", path.display()))
}
