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
    pub(crate) fn key(&self, name: &str) -> Key {
        (self.def.gvr(), self.namespace.to_owned(), name.to_owned())
    }
    pub(crate) fn not_found(&self, name: &str) -> ApiError {
        ApiError::not_found(&self.def.group, &self.def.plural, name)
    }
    pub(crate) fn conflict(&self, name: &str, why: &str) -> ApiError {
        ApiError::conflict(&self.def.group, &self.def.plural, name, why)
    }
}

impl Store {
    /// An empty store keeping at most `log_cap` events.
    pub fn new(log_cap: usize) -> Self {
        Self {
            objects: BTreeMap::new(),
            // Never 0: for watches and lists "0" means "any recent state".
            rv: 1,
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

    pub(crate) fn commit(
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

    /// Whether an object of that name exists.
    pub(crate) fn contains(&self, t: Target<'_>, name: &str) -> bool {
        self.objects.contains_key(&t.key(name))
    }

    /// A fresh number for uids and generated names.
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}
