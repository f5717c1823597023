//! The cache's promises: a second engine loads what the first compiled;
//! a damaged, foreign or refused file is compiled again and replaced,
//! never trusted; an unusable directory costs a compile, not the load.

use super::*;
use wasmtime::Config;

fn engine(fuel: bool) -> Engine {
    let mut config = Config::new();
    config.wasm_component_model(true).consume_fuel(fuel);
    Engine::new(&config).expect("engine")
}

fn module() -> (&'static [u8], String) {
    let bytes = berth_builtin_policies::get("sticky-statefulset").expect("built-in");
    (bytes, hex::encode(Sha256::digest(bytes)))
}

fn only_file(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("cache dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().expect("one file")
}

fn outcome(dir: &Path, engine: &Engine) -> ArtefactOutcome {
    let (bytes, digest) = module();
    let (component, outcome) = ArtefactCache::new(dir.to_owned())
        .component(engine, &digest, bytes)
        .expect("a component, cached or not");
    // Whatever the path, the component is the policy's.
    assert!(component
        .component_type()
        .exports(engine)
        .any(|(name, _)| name.starts_with("berth:policy/policy")));
    outcome
}

#[test]
fn a_later_engine_loads_what_an_earlier_one_compiled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    assert_eq!(outcome(&cache, &engine(false)), ArtefactOutcome::Compiled);
    assert_eq!(outcome(&cache, &engine(false)), ArtefactOutcome::Loaded);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&cache).expect("dir").permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "only berthd may write artefacts");
    let file = only_file(&cache);
    let name = file.file_name().and_then(|n| n.to_str()).expect("name");
    assert!(name.starts_with(&module().1), "{name}");
}

#[test]
fn damaged_files_are_compiled_again_and_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path();
    let engine = engine(false);
    outcome(cache, &engine);
    let file = only_file(cache);
    let good = std::fs::read(&file).expect("artefact");
    let mut flipped = good.clone();
    let last = flipped.len() - 100;
    flipped[last] ^= 0x40;
    let damages: [(&str, Vec<u8>); 5] = [
        ("truncated", good[..good.len() / 2].to_vec()),
        ("header only", good[..MAGIC.len() + SUM_BYTES].to_vec()),
        ("one bit flipped", flipped),
        ("empty", Vec::new()),
        ("not ours", b"\x7fELF garbage".to_vec()),
    ];
    for (what, damaged) in damages {
        std::fs::write(&file, &damaged).expect("damage");
        assert_eq!(outcome(cache, &engine), ArtefactOutcome::Replaced, "{what}");
        assert_eq!(std::fs::read(&file).expect("rewritten"), good, "{what}");
        assert_eq!(outcome(cache, &engine), ArtefactOutcome::Loaded, "{what}");
    }
}

#[test]
fn an_artefact_wasmtime_refuses_is_compiled_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (plain, metered) = (dir.path().join("plain"), dir.path().join("metered"));
    let (engine_plain, engine_metered) = (engine(false), engine(true));
    outcome(&plain, &engine_plain);
    outcome(&metered, &engine_metered);
    let (plain_file, metered_file) = (only_file(&plain), only_file(&metered));
    // Another configuration looks for another file...
    assert_ne!(plain_file.file_name(), metered_file.file_name());
    // ...and one put in its place anyway (intact, so its sum passes) is
    // refused by wasmtime (fuel support differs), then replaced.
    std::fs::copy(&metered_file, &plain_file).expect("swap");
    assert_eq!(outcome(&plain, &engine_plain), ArtefactOutcome::Replaced);
    assert_eq!(outcome(&plain, &engine_plain), ArtefactOutcome::Loaded);
}

#[test]
fn an_unusable_directory_costs_a_compile_not_the_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, b"x").expect("file");
    let engine = engine(false);
    assert_eq!(outcome(&not_a_dir, &engine), ArtefactOutcome::Compiled);
    assert_eq!(outcome(&not_a_dir, &engine), ArtefactOutcome::Compiled);
}
