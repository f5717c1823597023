//! berth-wasm-fixtures
