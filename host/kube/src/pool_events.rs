//! Kubernetes Events about a BerthPool (`events.k8s.io/v1`, shown by
//! `kubectl describe berthpool` and `kubectl events`): the pool became
//! invalid, held addresses were left outside its ranges, its deletion waits
//! for held addresses.
//!
//! Every node's berthd judges every pool on every pool sync, so without
//! care N nodes would write N Events per pass. Each Event is named from a
//! hash of what it says (the pool's UID, the reason and the facts behind
//! it, e.g. the generation and message), so the API server's name
//! uniqueness keeps one Event per fact cluster-wide: the first node's
//! create wins and the others get AlreadyExists. A node also remembers the
//! names it wrote or found, so repeated passes send nothing. A new fact (a
//! new generation, another message, another set of orphaned addresses) is
//! a new Event.

use crate::crd_pool::BerthPool;
use crate::limits::{EVENT_NAMES_REMEMBERED_MAX, EVENT_NOTE_BYTES_MAX};
use crate::retry::{with_retries, Failure};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use kube::{Client, ResourceExt};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::sync::Mutex;

/// Where Events about cluster-scoped objects go (as the kubelet's Node
/// Events do); `kubectl describe` finds them from any namespace.
pub const EVENT_NAMESPACE: &str = "default";
/// `reportingController` of every Event berthd writes.
pub const REPORTING_CONTROLLER: &str = "berth.io/berthd";

/// Warning or Normal, as Kubernetes spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

/// One fact about a pool worth an Event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolEvent {
    pub type_: EventType,
    /// CamelCase: "InvalidPool", "AddressesOutsideRanges", "DeletionWaiting".
    pub reason: &'static str,
    /// What berthd did about it: "Validate", "Count", "Delete".
    pub action: &'static str,
    pub note: String,
    /// What makes the fact the same fact: equal keys, one Event.
    pub key: String,
}

/// Writes pool Events, once per fact cluster-wide.
pub struct PoolEvents {
    api: Api<Event>,
    instance: String,
    written: Mutex<HashSet<String>>,
}

impl PoolEvents {
    /// `instance`: the node name (`reportingInstance`).
    pub fn new(client: Client, instance: &str) -> Self {
        PoolEvents {
            api: Api::namespaced(client, EVENT_NAMESPACE),
            instance: instance.chars().take(128).collect(),
            written: Mutex::new(HashSet::new()),
        }
    }

    /// Writes `event` about `pool` unless this fact has an Event already.
    /// A failure is logged, never fatal: Events are for people.
    pub async fn emit(&self, pool: &BerthPool, event: &PoolEvent) {
        let name = event_name(pool, event);
        if self.remembered(&name) {
            return;
        }
        let object = self.build(pool, event, &name);
        let params = PostParams::default();
        let result = with_retries(|| self.api.create(&params, &object))
            .await
            .result;
        match result {
            Ok(_) => {
                tracing::info!(pool = %pool.name_any(), reason = event.reason, note = %event.note, "pool event written");
                self.remember(name);
            }
            // Another node (or this one, before a restart) wrote it.
            Err(Failure::Api(status)) if status.code == 409 => self.remember(name),
            Err(error) => {
                tracing::warn!(pool = %pool.name_any(), reason = event.reason, %error, "writing a pool event failed; retrying at the next pool sync")
            }
        }
    }

    fn remembered(&self, name: &str) -> bool {
        self.written
            .lock()
            .map(|w| w.contains(name))
            .unwrap_or(false)
    }

    fn remember(&self, name: String) {
        if let Ok(mut written) = self.written.lock() {
            if written.len() >= EVENT_NAMES_REMEMBERED_MAX {
                written.clear();
            }
            written.insert(name);
        }
    }

    fn build(&self, pool: &BerthPool, event: &PoolEvent, name: &str) -> Event {
        Event {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                namespace: Some(EVENT_NAMESPACE.to_owned()),
                ..ObjectMeta::default()
            },
            event_time: Some(MicroTime(k8s_openapi::jiff::Timestamp::now())),
            reporting_controller: Some(REPORTING_CONTROLLER.to_owned()),
            reporting_instance: Some(self.instance.clone()),
            action: Some(event.action.to_owned()),
            reason: Some(event.reason.to_owned()),
            note: Some(truncate(&event.note, EVENT_NOTE_BYTES_MAX)),
            type_: Some(
                match event.type_ {
                    EventType::Normal => "Normal",
                    EventType::Warning => "Warning",
                }
                .to_owned(),
            ),
            regarding: Some(ObjectReference {
                api_version: Some("berth.io/v1alpha1".to_owned()),
                kind: Some("BerthPool".to_owned()),
                name: Some(pool.name_any()),
                uid: pool.metadata.uid.clone(),
                ..ObjectReference::default()
            }),
            ..Event::default()
        }
    }
}

/// `<pool>.<hash>`: a DNS subdomain (pool names are one), at most 253
/// bytes, the same on every node for the same fact.
pub fn event_name(pool: &BerthPool, event: &PoolEvent) -> String {
    let mut hash = Sha256::new();
    for part in [
        pool.metadata.uid.as_deref().unwrap_or_default(),
        event.reason,
        &event.key,
    ] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    let digest = hex::encode(&hash.finalize()[..8]);
    let name = pool.name_any();
    let prefix = name
        .get(..200)
        .unwrap_or(&name)
        .trim_end_matches(['.', '-']);
    format!("{prefix}.{digest}")
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max - 3;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(name: &str, uid: &str) -> BerthPool {
        // From JSON: fields added to the spec later take their defaults.
        let spec =
            serde_json::from_value(serde_json::json!({ "subnet": "10.0.0.0/24" })).expect("a spec");
        let mut p = BerthPool::new(name, spec);
        p.metadata.uid = Some(uid.into());
        p
    }

    fn invalid(key: &str) -> PoolEvent {
        PoolEvent {
            type_: EventType::Warning,
            reason: "InvalidPool",
            action: "Validate",
            note: "n".into(),
            key: key.into(),
        }
    }

    #[test]
    fn one_name_per_fact() {
        let a = pool("p", "u1");
        assert_eq!(event_name(&a, &invalid("1")), event_name(&a, &invalid("1")));
        assert_ne!(event_name(&a, &invalid("1")), event_name(&a, &invalid("2")));
        // A pool re-created under the same name is another object.
        assert_ne!(
            event_name(&a, &invalid("1")),
            event_name(&pool("p", "u2"), &invalid("1"))
        );
    }

    #[test]
    fn long_names_stay_a_dns_subdomain() {
        let long = "a".repeat(253);
        let name = event_name(&pool(&long, "u"), &invalid("k"));
        assert!(name.len() <= 253, "{}", name.len());
        assert!(name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'));
    }

    #[test]
    fn notes_are_cut_on_a_char_boundary() {
        let note = "é".repeat(1000);
        let cut = truncate(&note, EVENT_NOTE_BYTES_MAX);
        assert!(cut.len() <= EVENT_NOTE_BYTES_MAX && cut.ends_with("..."));
    }
}
