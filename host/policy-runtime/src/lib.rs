//! berth-policy-runtime
