//! Object metadata the server owns: uid, creationTimestamp, generation,
//! resourceVersion, generateName suffixes, and the update rules that keep
//! them (and `.status`, for resources with a status subresource) out of the
//! client's hands.

use crate::resource::ResourceDef;
use serde_json::{json, Map, Value};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// `metadata.name`, or "" when absent.
pub fn name(obj: &Value) -> &str {
    obj["metadata"]["name"].as_str().unwrap_or("")
}

/// `metadata.resourceVersion`, or "" when absent.
pub fn resource_version(obj: &Value) -> &str {
    obj["metadata"]["resourceVersion"].as_str().unwrap_or("")
}

/// `metadata.uid`, or "" when absent.
pub fn uid(obj: &Value) -> &str {
    obj["metadata"]["uid"].as_str().unwrap_or("")
}

/// The `metadata` map, created when absent.
pub fn metadata_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    match obj.get_mut("metadata").and_then(Value::as_object_mut) {
        Some(m) => m,
        None => unreachable!("metadata was just made an object"),
    }
}

/// Current UTC time, RFC 3339 to the second, as Kubernetes writes it.
pub fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn random_u64(seq: u64) -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(seq);
    h.finish()
}

/// A fresh, random version-4-shaped UID.
pub fn new_uid(seq: u64) -> String {
    let a = random_u64(seq);
    let b = random_u64(seq ^ 0x9e37_79b9_7f4a_7c15);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

/// A five-character `generateName` suffix from the API server's alphabet.
pub fn name_suffix(seq: u64) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut r = random_u64(seq);
    (0..5)
        .map(|_| {
            let c = ALPHABET[(r % ALPHABET.len() as u64) as usize] as char;
            r /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

/// Set `apiVersion` and `kind` from the resource definition.
pub fn set_type(def: &ResourceDef, obj: &mut Value) {
    obj["apiVersion"] = json!(def.api_version());
    obj["kind"] = json!(def.kind);
}

/// The part of an object whose changes bump `metadata.generation`: all but
/// metadata, and all but status when the status is a subresource.
fn spec_part(def: &ResourceDef, obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        if def.status_subresource {
            m.remove("status");
        }
    }
    v
}

/// Make `new` a valid successor of `old`: server-owned metadata is kept from
/// `old`, `.status` too when `keep_status`, and generation is bumped when the
/// spec part changed. resourceVersion is left for the commit to set.
pub fn carry_over(def: &ResourceDef, old: &Value, new: &mut Value, keep_status: bool) {
    set_type(def, new);
    let old_meta = old["metadata"].as_object().cloned().unwrap_or_default();
    let meta = metadata_mut(new);
    for key in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
        "resourceVersion",
    ] {
        match old_meta.get(key) {
            Some(v) => meta.insert(key.to_owned(), v.clone()),
            None => meta.remove(key),
        };
    }
    if keep_status {
        match old.get("status") {
            Some(s) => new["status"] = s.clone(),
            None => {
                if let Some(m) = new.as_object_mut() {
                    m.remove("status");
                }
            }
        }
    }
    if spec_part(def, old) != spec_part(def, new) {
        let generation = old["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
        metadata_mut(new).insert("generation".to_owned(), json!(generation));
    }
}

/// Whether deletion is pending and no finalizer holds the object any more.
pub fn ready_to_vanish(obj: &Value) -> bool {
    obj["metadata"]["deletionTimestamp"].is_string() && !has_finalizers(obj)
}

/// Whether the object carries finalizers.
pub fn has_finalizers(obj: &Value) -> bool {
    obj["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty())
}
