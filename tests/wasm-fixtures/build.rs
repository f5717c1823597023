//! Builds the hostile guests under `guests/` into components and writes an
//! index that `include_bytes!`s them into this crate.

use berth_wasm_build::{
    build_components, workspace_root_of_build_script, write_component_index, Profile,
};
use std::path::Path;

/// Directory names under `guests/`; each package is `hostile-<name>`.
const GUESTS: &[&str] = &[
    "infinite-loop",
    "memory-bomb",
    "trap",
    "imports-filesystem",
    "illegal-pick",
    "noisy-logger",
    "slow-identify",
    "bad-identity",
    "sleeper",
];

fn main() {
    if let Err(err) = run() {
        println!("cargo::error={err}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let root = workspace_root_of_build_script()?;
    let packages: Vec<String> = GUESTS.iter().map(|g| format!("hostile-{g}")).collect();
    let packages: Vec<&str> = packages.iter().map(String::as_str).collect();
    let built = build_components(&root, &packages, Profile::Release)?;
    // Indexed by the guest's directory name, not its package name.
    let index: Vec<(&str, &Path)> = GUESTS
        .iter()
        .zip(&built)
        .map(|(guest, (_, path))| (*guest, path.as_path()))
        .collect();
    write_component_index(&index)?;
    Ok(())
}
