//! The `berth` CNI IPAM plugin: a thin client of the berthd daemon.
//!
//! It parses the CNI request (environment and stdin), sends one
//! berth-proto request over the daemon's unix socket, and prints the CNI
//! result or error. All allocation state and rules live in the daemon;
//! the plugin keeps none, so it starts fast and can be killed anywhere.
//! See `README.md` for the configuration and the error codes.

pub mod client;
pub mod cni_args;
pub mod config;
pub mod config_error;
pub mod env;
pub mod errors;
pub mod inputs;
pub mod ips;
pub mod limits;
pub mod plugin;
pub mod result;
pub mod version;
