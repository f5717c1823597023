//! The object store: objects as JSON by (group, version, plural, namespace,
//! name), one global resourceVersion counter, and a bounded event log that
//! watches replay from. One mutex guards it all, so every write is atomic
//! and optimistic concurrency (AlreadyExists, stale resourceVersion) holds
//! under any number of concurrent clients.

use crate::meta;
use crate::resource::{Gvr, ResourceDef};
use crate::selectors::Selectors;
use crate::status::ApiError;
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// Watch event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Object created.
    Added,
    /// Object changed.
    Modified,
    /// Object deleted.
    Deleted,
}

/// One entry of the event log.
#[derive(Debug)]
pub struct Event {
    /// resourceVersion of this change.
    pub rv: u64,
    /// Resource type.
    pub gvr: Gvr,
    /// Namespace ("" for cluster-scoped).
    pub namespace: String,
    /// What happened.
    pub kind: EventType,
    /// The object after the change (for deletes: the last state, new resourceVersion).
    pub object: Arc<Value>,
    /// The object before the change (for selector transitions in watches).
    pub previous: Option<Arc<Value>>,
}

type Key = (Gvr, String, String);

/// The store proper. Not thread-safe by itself: the server wraps it in a mutex.
#[derive(Debug)]
pub struct Store {
    objects: BTreeMap<Key, Value>,
    rv: u64,
    log: VecDeque<Arc<Event>>,
    log_cap: usize,
    /// Events with rv <= compacted are gone from the log.
    compacted: u64,
    seq: u64,
}

/// Where a write request points.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// Resource type.
    pub def: &'a ResourceDef,
    /// Namespace ("" for cluster-scoped).
    pub namespace: &'a str,
}

impl Target<'_> {
    fn key(&self, name: &str) -> Key {
        (self.def.gvr(), self.namespace.to_owned(), name.to_owned())
    }
    fn not_found(&self, name: &str) -> ApiError {
        ApiError::not_found(&self.def.group, &self.def.plural, name)
    }
    fn conflict(&self, name: &str, why: &str) -> ApiError {
        ApiError::conflict(&self.def.group, &self.def.plural, name, why)
    }
}

const STALE: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

impl Store {
    /// An empty store keeping at most `log_cap` events.
    pub fn new(log_cap: usize) -> Self {
        Self {
            objects: BTreeMap::new(),
            rv: 0,
            log: VecDeque::new(),
            log_cap: log_cap.max(1),
            compacted: 0,
            seq: 0,
        }
    }

    /// The current (latest) resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// Drop the whole event log: watches from any older resourceVersion get 410.
    pub fn compact(&mut self) {
        self.log.clear();
        self.compacted = self.rv;
    }

    /// One object.
    pub fn get(&self, t: Target<'_>, name: &str) -> Result<Value, ApiError> {
        self.objects
            .get(&t.key(name))
            .cloned()
            .ok_or_else(|| t.not_found(name))
    }

    /// Objects of a type (in one namespace, or all when `namespace` is None)
    /// matching the selectors, in key order, and the list's resourceVersion.
    pub fn list(
        &self,
        def: &ResourceDef,
        namespace: Option<&str>,
        sel: &Selectors,
    ) -> (Vec<Value>, u64) {
        let gvr = def.gvr();
        let start = (
            gvr.clone(),
            namespace.unwrap_or("").to_owned(),
            String::new(),
        );
        let items = self
            .objects
            .range(start..)
            .take_while(|((g, ns, _), _)| *g == gvr && namespace.is_none_or(|n| n == ns))
            .map(|(_, v)| v)
            .filter(|v| sel.matches(v))
            .cloned()
            .collect();
        (items, self.rv)
    }

    /// Events for `gvr` after resourceVersion `after`, or 410 when the log no longer reaches back that far.
    pub fn events_since(&self, gvr: &Gvr, after: u64) -> Result<Vec<Arc<Event>>, ApiError> {
        if after < self.compacted {
            return Err(ApiError::expired(after, self.compacted));
        }
        let first = self.log.partition_point(|e| e.rv <= after);
        Ok(self
            .log
            .range(first..)
            .filter(|e| e.gvr == *gvr)
            .cloned()
            .collect())
    }

    fn commit(
        &mut self,
        t: Target<'_>,
        mut obj: Value,
        prev: Option<Value>,
        kind: EventType,
        dry_run: bool,
    ) -> Value {
        if dry_run {
            return obj;
        }
        self.rv += 1;
        meta::metadata_mut(&mut obj).insert("resourceVersion".into(), json!(self.rv.to_string()));
        let key = t.key(meta::name(&obj));
        if kind == EventType::Deleted {
            self.objects.remove(&key);
        } else {
            self.objects.insert(key, obj.clone());
        }
        self.log.push_back(Arc::new(Event {
            rv: self.rv,
            gvr: t.def.gvr(),
            namespace: t.namespace.to_owned(),
            kind,
            object: Arc::new(obj.clone()),
            previous: prev.map(Arc::new),
        }));
        while self.log.len() > self.log_cap {
            if let Some(e) = self.log.pop_front() {
                self.compacted = e.rv;
            }
        }
        obj
    }

    /// POST: create, or 409 AlreadyExists.
    pub fn create(
        &mut self,
        t: Target<'_>,
        mut obj: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request("the body must be a JSON object"));
        }
        if let Some(kind) = obj["kind"].as_str().filter(|k| *k != t.def.kind) {
            return Err(ApiError::bad_request(format!(
                "kind {kind} does not match {}",
                t.def.kind
            )));
        }
        let body_ns = obj["metadata"]["namespace"].as_str().unwrap_or("");
        if !t.namespace.is_empty() && !body_ns.is_empty() && body_ns != t.namespace {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let mut name = meta::name(&obj).to_owned();
        if name.is_empty() {
            let prefix = obj["metadata"]["generateName"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            if prefix.is_empty() {
                return Err(ApiError::invalid(
                    "metadata.name: Required value: name or generateName is required",
                ));
            }
            loop {
                self.seq += 1;
                name = format!("{prefix}{}", meta::name_suffix(self.seq));
                if !self.objects.contains_key(&t.key(&name)) {
                    break;
                }
            }
        }
        if self.objects.contains_key(&t.key(&name)) {
            return Err(ApiError::already_exists(&t.def.group, &t.def.plural, &name));
        }
        self.seq += 1;
        meta::set_type(t.def, &mut obj);
        let uid = meta::new_uid(self.seq);
        let m = meta::metadata_mut(&mut obj);
        m.insert("name".into(), json!(name));
        if t.def.namespaced {
            m.insert("namespace".into(), json!(t.namespace));
        } else {
            m.remove("namespace");
        }
        m.insert("uid".into(), json!(uid));
        m.insert("creationTimestamp".into(), json!(meta::now()));
        m.insert("generation".into(), json!(1));
        for k in [
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            m.remove(k);
        }
        if t.def.status_subresource {
            if let Some(o) = obj.as_object_mut() {
                o.remove("status");
            }
        }
        Ok(self.commit(t, obj, None, EventType::Added, dry_run))
    }

    /// Store `new` as the successor of `old` (already checked), deleting it if
    /// that removed the last finalizer of an object pending deletion.
    fn update_checked(
        &mut self,
        t: Target<'_>,
        old: Value,
        mut new: Value,
        keep_status: bool,
        dry_run: bool,
    ) -> Value {
        meta::carry_over(t.def, &old, &mut new, keep_status);
        if new == old {
            return old; // a no-op write changes nothing, as in the API server
        }
        if meta::ready_to_vanish(&new) {
            return self.commit(t, new, Some(old), EventType::Deleted, dry_run);
        }
        self.commit(t, new, Some(old), EventType::Modified, dry_run)
    }

    fn check_rv(t: Target<'_>, name: &str, old: &Value, body: &Value) -> Result<(), ApiError> {
        let want = meta::resource_version(body);
        if !want.is_empty() && want != meta::resource_version(old) {
            return Err(t.conflict(name, STALE));
        }
        Ok(())
    }

    /// PUT on the object or (with `status`) its `/status`.
    pub fn replace(
        &mut self,
        t: Target<'_>,
        name: &str,
        body: Value,
        status: bool,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let body_name = meta::name(&body);
        if !body_name.is_empty() && body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let old = self.get(t, name)?;
        Self::check_rv(t, name, &old, &body)?;
        let new = if status {
            with_status_of(&old, &body)
        } else {
            body
        };
        Ok(self.update_checked(t, old, new, t.def.status_subresource && !status, dry_run))
    }

    /// PATCH with an already-applied patch function; `Ok((object, created))`.
    pub fn patch(
        &mut self,
        t: Target<'_>,
        name: &str,
        status: bool,
        create_if_absent: bool,
        dry_run: bool,
        apply: impl FnOnce(&mut Value) -> Result<(), ApiError>,
    ) -> Result<(Value, bool), ApiError> {
        let old = match self.get(t, name) {
            Ok(o) => o,
            Err(e) if !create_if_absent || status => return Err(e),
            Err(_) => {
                let mut fresh = json!({ "metadata": { "name": name } });
                apply(&mut fresh)?;
                meta::metadata_mut(&mut fresh).insert("name".into(), json!(name));
                return Ok((self.create(t, fresh, dry_run)?, true));
            }
        };
        let mut patched = old.clone();
        apply(&mut patched)?;
        Self::check_rv(t, name, &old, &patched)?;
        let new = if status {
            with_status_of(&old, &patched)
        } else {
            patched
        };
        Ok((
            self.update_checked(t, old, new, t.def.status_subresource && !status, dry_run),
            false,
        ))
    }

    /// DELETE with optional resourceVersion/uid preconditions. Objects with
    /// finalizers get a deletionTimestamp and stay until the last finalizer goes.
    pub fn delete(
        &mut self,
        t: Target<'_>,
        name: &str,
        pre_rv: Option<&str>,
        pre_uid: Option<&str>,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let old = self.get(t, name)?;
        if let Some(rv) = pre_rv.filter(|rv| *rv != meta::resource_version(&old)) {
            let why = format!(
                "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                meta::resource_version(&old)
            );
            return Err(t.conflict(name, &why));
        }
        if let Some(uid) = pre_uid.filter(|u| *u != meta::uid(&old)) {
            let why = format!(
                "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                meta::uid(&old)
            );
            return Err(t.conflict(name, &why));
        }
        if meta::has_finalizers(&old) {
            if old["metadata"]["deletionTimestamp"].is_string() {
                return Ok(old);
            }
            let mut new = old.clone();
            let m = meta::metadata_mut(&mut new);
            m.insert("deletionTimestamp".into(), json!(meta::now()));
            m.insert("deletionGracePeriodSeconds".into(), json!(0));
            return Ok(self.commit(t, new, Some(old), EventType::Modified, dry_run));
        }
        Ok(self.commit(t, old.clone(), Some(old), EventType::Deleted, dry_run))
    }
}

/// `base` with its `.status` replaced by `src`'s (removed when `src` has none).
fn with_status_of(base: &Value, src: &Value) -> Value {
    let mut n = base.clone();
    match (src.get("status"), n.as_object_mut()) {
        (Some(s), Some(o)) => {
            o.insert("status".into(), s.clone());
        }
        (None, Some(o)) => {
            o.remove("status");
        }
        _ => {}
    }
    n
}
