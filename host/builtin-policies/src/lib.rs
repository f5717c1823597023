//! berth-builtin-policies
