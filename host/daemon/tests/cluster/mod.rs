//! Kubernetes-mode harness: the in-process API server stand-in
//! (`berth-kube-standin`, real kube-rs client; see its crate docs for what
//! it does and does not cover), `berthd` processes configured as nodes of
//! that cluster, and the socket protocol the CNI plugin speaks.
//!
//! Not covered here: kubelet behaviour (pods vanish at once on delete, as
//! the stand-in has no kubelet), ownerReference garbage collection, RBAC.

#![allow(dead_code)]

mod api;
mod berthd;
mod socket;

pub use api::Cluster;
pub use berthd::Berthd;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub fn eventually(what: &str, secs: u64, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for: {what}");
}

pub fn sticky(hold: &str) -> Value {
    json!([{ "name": "sticky", "builtin": "sticky-statefulset", "settings": { "holdAfterScaleDown": hold } }])
}
