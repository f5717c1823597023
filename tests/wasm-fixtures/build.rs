//! Builds the hostile guests under `guests/` into components and writes an
//! index that `include_bytes!`s them into this crate.

use berth_wasm_build::{build_components, Profile};
use std::path::PathBuf;

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
    let packages: Vec<String> = GUESTS.iter().map(|g| format!("hostile-{g}")).collect();
    let packages: Vec<&str> = packages.iter().map(String::as_str).collect();
    let built = build_components(root, &packages, Profile::Release)?;
    let mut index = String::from("pub(crate) static COMPONENTS: &[(&str, &[u8])] = &[\n");
    for ((_, path), guest) in built.iter().zip(GUESTS) {
        let path = path.to_str().ok_or("component path is not UTF-8")?;
        index.push_str(&format!("    ({guest:?}, include_bytes!({path:?})),\n"));
    }
    index.push_str("];\n");
    index.push_str(&format!(
        "pub(crate) static NAMES: &[&str] = &{GUESTS:?};\n"
    ));
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("components.rs");
    std::fs::write(out, index)?;
    Ok(())
}
