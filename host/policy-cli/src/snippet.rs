//! What `build` prints: the facts an operator pins, and the entries to
//! paste into berthd.json and the chart's values.

use crate::build::Built;

pub fn print(built: &Built) {
    let size = built.bytes.len();
    println!("component  {}", built.path.display());
    println!(
        "policy     {} {} (contract {})",
        built.metadata.name, built.metadata.version, built.metadata.contract
    );
    println!(
        "size       {size} bytes ({:.1} MiB)",
        size as f64 / (1024.0 * 1024.0)
    );
    println!("sha256     {}", built.sha256);
    println!(
        "imports    {} (linked as traps: {})",
        built.report.imports.len(),
        if built.report.trapped.is_empty() {
            "none".to_owned()
        } else {
            built.report.trapped.join(", ")
        }
    );
    println!(
        "memory cap {} bytes per instance",
        built.report.memory_bytes
    );
    println!(
        "loaded in  {:.2?} (compile + settings check in the host runtime)",
        built.load_time
    );
    println!();
    println!("berthd.json, in \"policies\" (copy the file to the node first):");
    let entry = serde_json::json!({
        "name": built.name,
        "file": format!("/etc/berth/policies/{}.wasm", built.name),
        "sha256": built.sha256,
        "settings": built.settings,
        "failurePolicy": "Fail",
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&entry).unwrap_or_default()
    );
    println!();
    println!("Helm values, in `policies` (after: kubectl -n <release namespace> create configmap {}-policy --from-file={}.wasm={}):",
        built.name, built.name, built.path.display());
    println!("  - name: {}", built.name);
    println!("    configMap: {}-policy", built.name);
    println!("    file: {}.wasm", built.name);
    println!("    sha256: \"{}\"", built.sha256);
    println!(
        "    settings: {}",
        serde_json::to_string(&built.settings).unwrap_or_default()
    );
    println!("    failurePolicy: Fail");
}
