pub mod ops;
pub mod world;
