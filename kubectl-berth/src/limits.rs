//! The tool's fixed numbers and defaults, in one place.

/// `check` reports a retained binding this long after its expiry: each
/// node frees its expired bindings every `expiryIntervalSecs` (10 s by
/// default), so a younger one is only waiting for the next pass.
pub const EXPIRY_SLACK_SECS: u64 = 60;

/// Where the chart keeps berthd's config (`<release>-config` of release
/// `berth` installed in kube-system, as the README installs it).
pub const BERTH_CONFIG_MAP: &str = "kube-system/berth-config";

/// The config file inside that ConfigMap.
pub const BERTH_CONFIG_KEY: &str = "berthd.json";

/// The CNI network name of records `migrate` writes. No CNI config is
/// named so, so a node's CNI GC (which releases its network's records
/// the runtime no longer lists) never takes them for its own: a migrated
/// record is released by the cluster GC once its pod is gone, or re-bound
/// by the pod's first ADD through Berth.
pub const MIGRATED_NETWORK: &str = "migrated-from-spiderpool";

/// The policy name the decision trace of a migrated record names.
pub const MIGRATION_TRACE_POLICY: &str = "spiderpool-migration";
