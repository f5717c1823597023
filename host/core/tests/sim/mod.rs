mod checks;
pub mod ops;
mod runtime;
pub mod world;
