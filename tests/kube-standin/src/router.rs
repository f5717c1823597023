//! HTTP routing: path → resource, method + query → verb, verb → store call.
//! Every request is counted, delayed by the injected latency, and writes may
//! fail with an injected fault before they touch the store.

use crate::counters::WRITE_VERBS;
use crate::patch::{self, PatchKind};
use crate::path::{flag, query, ResourcePath};
use crate::resource::{Gvr, ResourceDef};
use crate::selectors::{FieldSelector, LabelSelector, Selectors};
use crate::status::ApiError;
use crate::store::{Store, Target};
use crate::watch::{self, WatchRequest};
use crate::Shared;
use bytes::Bytes;
use http_body_util::{channel::Channel, BodyExt, Either, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

/// Response body: a whole JSON document, or a watch stream.
pub(crate) type Body = Either<Full<Bytes>, Channel<Bytes>>;

const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);

fn json_response(code: u16, v: &Value) -> Response<Body> {
    let mut r = Response::new(Either::Left(Full::new(Bytes::from(v.to_string()))));
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// The hyper service function.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let latency = shared.knobs.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    Ok(route(shared, req)
        .await
        .unwrap_or_else(|e| json_response(e.code, &e.to_status())))
}

fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))
}

fn selectors(q: &HashMap<String, String>) -> Result<Selectors, ApiError> {
    Ok(Selectors {
        labels: LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str))?,
        fields: FieldSelector::parse(q.get("fieldSelector").map_or("", String::as_str))?,
    })
}

/// Run a store write under the lock, then wake the watches.
fn write<T>(
    shared: &Shared,
    op: impl FnOnce(&mut Store) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let (out, rv) = {
        let mut store = shared
            .store
            .lock()
            .map_err(|_| ApiError::internal("store lock poisoned"))?;
        let out = op(&mut store)?;
        (out, store.resource_version())
    };
    shared.changes.send_replace(rv);
    Ok(out)
}

fn list_body(def: &ResourceDef, items: Vec<Value>, rv: u64) -> Value {
    json!({
        "kind": format!("{}List", def.kind),
        "apiVersion": def.api_version(),
        "metadata": { "resourceVersion": rv.to_string() },
        "items": items,
    })
}

async fn route(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let (parts, body) = req.into_parts();
    if parts.uri.path() == "/version" {
        return Ok(json_response(
            200,
            &json!({ "major": "1", "minor": "37", "gitVersion": "v1.37.0-berth-standin" }),
        ));
    }
    let path = ResourcePath::parse(parts.uri.path())?;
    let q = query(parts.uri.query());
    let def = shared
        .registry
        .read()
        .map_err(|_| ApiError::internal("registry lock poisoned"))?
        .get(&Gvr::new(&path.group, &path.version, &path.plural))
        .cloned()
        .ok_or_else(|| {
            ApiError::new(
                404,
                "NotFound",
                format!(
                    "the server could not find the requested resource ({})",
                    parts.uri.path()
                ),
            )
        })?;
    let status = match path.subresource.as_deref() {
        None => false,
        Some("status") if def.status_subresource => true,
        Some(other) => {
            return Err(ApiError::new(
                404,
                "NotFound",
                format!("no subresource {other} on {}", def.plural),
            ))
        }
    };
    let collection_read = path.name.is_none() && parts.method == Method::GET;
    if (def.namespaced && path.namespace.is_none() && !collection_read)
        || (!def.namespaced && path.namespace.is_some())
    {
        return Err(ApiError::new(
            404,
            "NotFound",
            format!(
                "the server could not find the requested resource ({})",
                parts.uri.path()
            ),
        ));
    }
    let verb = match (&parts.method, path.name.is_some()) {
        (&Method::GET, true) => "get",
        (&Method::GET, false) if flag(&q, "watch") => "watch",
        (&Method::GET, false) => "list",
        (&Method::POST, false) => "create",
        (&Method::PUT, true) => "update",
        (&Method::PATCH, true) => "patch",
        (&Method::DELETE, true) => "delete",
        (&Method::DELETE, false) => "deletecollection",
        (m, _) => return Err(ApiError::method_not_allowed(m.as_str())),
    };
    let resource = if status {
        format!("{}/status", def.plural)
    } else {
        def.plural.clone()
    };
    shared.knobs.count(verb, &resource);
    let dry_run = q.get("dryRun").is_some_and(|v| v == "All");
    if WRITE_VERBS.contains(&verb) && !dry_run {
        if let Some(fault) = shared.knobs.take_fault(&resource) {
            return Err(fault);
        }
    }
    let bytes = body
        .collect()
        .await
        .map_err(|e| ApiError::bad_request(format!("reading the body failed: {e}")))?
        .to_bytes();
    let ns = path.namespace.clone().unwrap_or_default();
    let t = Target {
        def: &def,
        namespace: &ns,
    };
    let name = path.name.clone().unwrap_or_default();
    let lock_err = |_| ApiError::internal("store lock poisoned");
    match verb {
        "get" => Ok(json_response(
            200,
            &shared.store.lock().map_err(lock_err)?.get(t, &name)?,
        )),
        "list" => {
            let sel = selectors(&q)?;
            let (items, rv) =
                shared
                    .store
                    .lock()
                    .map_err(lock_err)?
                    .list(&def, path.namespace.as_deref(), &sel);
            shared.knobs.count_objects_read(&resource, items.len());
            Ok(json_response(200, &list_body(&def, items, rv)))
        }
        "watch" => {
            let rv = match q.get("resourceVersion").map(String::as_str) {
                None | Some("") | Some("0") => None,
                Some(s) => Some(s.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(format!("invalid resourceVersion {s:?}"))
                })?),
            };
            let timeout = q
                .get("timeoutSeconds")
                .and_then(|s| s.parse().ok())
                .map_or(DEFAULT_WATCH_TIMEOUT, Duration::from_secs);
            let wr = WatchRequest {
                def: def.clone(),
                namespace: path.namespace.clone(),
                selectors: selectors(&q)?,
                resource_version: rv,
                send_initial_events: flag(&q, "sendInitialEvents"),
                bookmarks: flag(&q, "allowWatchBookmarks"),
                timeout,
            };
            let (tx, body) = Channel::new(64);
            tokio::spawn(watch::run(shared.clone(), wr, tx));
            let mut r = Response::new(Either::Right(body));
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            Ok(r)
        }
        "create" => {
            let obj = parse_json(&bytes)?;
            Ok(json_response(
                201,
                &write(&shared, |s| s.create(t, obj, dry_run))?,
            ))
        }
        "update" => {
            let obj = parse_json(&bytes)?;
            Ok(json_response(
                200,
                &write(&shared, |s| s.replace(t, &name, obj, status, dry_run))?,
            ))
        }
        "patch" => {
            let ct = parts
                .headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let kind = PatchKind::from_content_type(ct)?;
            let apply = |v: &mut Value| patch::apply(kind, v, &bytes);
            let (obj, created) = write(&shared, |s| {
                s.patch(t, &name, status, kind == PatchKind::Apply, dry_run, apply)
            })?;
            Ok(json_response(if created { 201 } else { 200 }, &obj))
        }
        "delete" => {
            let opts = if bytes.is_empty() {
                Value::Null
            } else {
                parse_json(&bytes)?
            };
            let pre = &opts["preconditions"];
            let (rv, uid) = (pre["resourceVersion"].as_str(), pre["uid"].as_str());
            let dry = dry_run
                || opts["dryRun"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|v| v == "All"));
            Ok(json_response(
                200,
                &write(&shared, |s| s.delete(t, &name, rv, uid, dry))?,
            ))
        }
        _ => {
            let sel = selectors(&q)?;
            let deleted = write(&shared, |s| {
                let (items, _) = s.list(&def, Some(&ns), &sel);
                items
                    .iter()
                    .map(|o| s.delete(t, crate::meta::name(o), None, None, dry_run))
                    .collect::<Result<Vec<_>, _>>()
            })?;
            let rv = shared.store.lock().map_err(lock_err)?.resource_version();
            Ok(json_response(200, &list_body(&def, deleted, rv)))
        }
    }
}
