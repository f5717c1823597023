//! berth-wasm-build
