//! berth-store-embedded
