//! label-pool
