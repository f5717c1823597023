//! WATCH: newline-delimited JSON events over a chunked HTTP response.
//!
//! With no resourceVersion (or `"0"`, or `sendInitialEvents=true`) the watch
//! starts with synthetic ADDED events for the current objects; otherwise it
//! replays the event log after the given resourceVersion, or sends an ERROR
//! event with a 410 `Expired` Status when the log no longer reaches back that
//! far. An open watch whose position falls out of the log (through
//! `ApiServer::compact` or log overflow) gets the same 410 ERROR and ends, as
//! a watch cache expires a slow watcher. Selector transitions are reported as the API server does (an object
//! that stops matching is DELETED, one that starts matching is ADDED).
//! BOOKMARKs are sent every bookmark interval when asked for, and after the
//! initial events when `sendInitialEvents=true` (annotated
//! `k8s.io/initial-events-end`). The stream ends after `timeoutSeconds`.

use crate::resource::ResourceDef;
use crate::selectors::Selectors;
use crate::store::{Event, EventType};
use crate::Shared;
use bytes::Bytes;
use http_body_util::channel::Sender;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// What a watch request asked for.
#[derive(Debug, Clone)]
pub(crate) struct WatchRequest {
    pub def: ResourceDef,
    pub namespace: Option<String>,
    pub selectors: Selectors,
    /// `None`: start from the current state with synthetic ADDED events.
    pub resource_version: Option<u64>,
    pub send_initial_events: bool,
    pub bookmarks: bool,
    pub timeout: Duration,
}

fn line(kind: &str, object: &Value) -> Bytes {
    let mut s = json!({ "type": kind, "object": object }).to_string();
    s.push('\n');
    Bytes::from(s)
}

fn bookmark(def: &ResourceDef, rv: u64, initial_end: bool) -> Bytes {
    let mut meta = json!({ "resourceVersion": rv.to_string() });
    if initial_end {
        meta["annotations"] = json!({ "k8s.io/initial-events-end": "true" });
    }
    let obj = json!({ "kind": def.kind, "apiVersion": def.api_version(), "metadata": meta });
    line("BOOKMARK", &obj)
}

/// The event line a watcher with these selectors sees for `e`, if any.
fn translate(req: &WatchRequest, e: &Event) -> Option<Bytes> {
    if req.namespace.as_ref().is_some_and(|ns| *ns != e.namespace) {
        return None;
    }
    let now = req.selectors.matches(&e.object);
    let before = e
        .previous
        .as_ref()
        .is_some_and(|p| req.selectors.matches(p));
    let kind = match (e.kind, before, now) {
        (EventType::Added, _, true) => "ADDED",
        (EventType::Modified, true, true) => "MODIFIED",
        (EventType::Modified, false, true) => "ADDED",
        (EventType::Modified, true, false) => "DELETED",
        (EventType::Deleted, true, _) => "DELETED",
        _ => return None,
    };
    Some(line(kind, &e.object))
}

/// Stream events into `tx` until the timeout, a 410, the client leaving, or shutdown.
pub(crate) async fn run(shared: Arc<Shared>, req: WatchRequest, mut tx: Sender<Bytes>) {
    let deadline = tokio::time::Instant::now() + req.timeout;
    let mut changes = shared.changes.subscribe();
    let gvr = req.def.gvr();
    let initial = req.resource_version.is_none() || req.send_initial_events;
    let mut cursor = match req.resource_version {
        Some(rv) if !initial => rv,
        _ => {
            let (items, rv) = match shared.store.lock() {
                Ok(s) => s.list(&req.def, req.namespace.as_deref(), &req.selectors),
                Err(_) => return,
            };
            shared
                .knobs
                .count_objects_read(&req.def.plural, items.len());
            for item in &items {
                if tx.send_data(line("ADDED", item)).await.is_err() {
                    return;
                }
            }
            if req.send_initial_events && tx.send_data(bookmark(&req.def, rv, true)).await.is_err()
            {
                return;
            }
            rv
        }
    };
    let mut ticker = tokio::time::interval(shared.bookmark_interval);
    ticker.tick().await;
    loop {
        shared.knobs.watches_flowing().await;
        changes.borrow_and_update();
        let batch = match shared.store.lock() {
            Ok(s) => s
                .events_since(&gvr, cursor)
                .map(|ev| (ev, s.resource_version())),
            Err(_) => return,
        };
        match batch {
            Err(gone) => {
                let _ = tx.send_data(line("ERROR", &gone.to_status())).await;
                return;
            }
            Ok((events, rv)) => {
                for e in &events {
                    if let Some(l) = translate(&req, e) {
                        if tx.send_data(l).await.is_err() {
                            return;
                        }
                    }
                }
                cursor = rv;
            }
        }
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return },
            _ = ticker.tick() => {
                if req.bookmarks && tx.send_data(bookmark(&req.def, cursor, false)).await.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep_until(deadline) => return,
        }
    }
}
