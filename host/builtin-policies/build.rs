//! Builds the shipped policies into components and writes an index that
//! `include_bytes!`s them into this crate.

use berth_wasm_build::{
    build_components, workspace_root_of_build_script, write_component_index, Profile,
};
use std::path::Path;

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
    let root = workspace_root_of_build_script()?;
    let built = build_components(&root, POLICIES, Profile::Release)?;
    let index: Vec<(&str, &Path)> = built
        .iter()
        .map(|(name, path)| (name.as_str(), path.as_path()))
        .collect();
    write_component_index(&index)?;
    Ok(())
}
