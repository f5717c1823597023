//! The write verbs on the store: create (with generateName), replace and
//! patch of an object or its `/status`, and delete with preconditions and
//! finalizers. Each checks optimistic concurrency before committing.

use crate::meta;
use crate::status::ApiError;
use crate::store::{EventType, Store, Target};
use serde_json::{json, Value};

const STALE: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

impl Store {
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
                name = format!("{prefix}{}", meta::name_suffix(self.next_seq()));
                if !self.contains(t, &name) {
                    break;
                }
            }
        }
        if self.contains(t, &name) {
            return Err(ApiError::already_exists(&t.def.group, &t.def.plural, &name));
        }
        meta::set_type(t.def, &mut obj);
        let uid = meta::new_uid(self.next_seq());
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
