//! namespace-quota
