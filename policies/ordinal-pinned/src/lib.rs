//! ordinal-pinned
