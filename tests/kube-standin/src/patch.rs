//! PATCH bodies. Simplifications, on purpose:
//!
//! * `application/merge-patch+json`: RFC 7386 JSON merge patch, exactly.
//! * `application/strategic-merge-patch+json`: applied as a JSON merge patch
//!   (lists are replaced whole, no `patchMergeKey` merging, no `$patch` directives).
//! * `application/apply-patch+yaml` (server-side apply): the body must be JSON
//!   (kube-rs sends JSON); it is applied as a JSON merge patch and creates the
//!   object when absent. No field managers, no ownership conflicts, no removal
//!   of fields the manager stopped applying; `force` and `fieldManager` are ignored.
//! * `application/json-patch+json`: RFC 6902 JSON patch.

use crate::status::ApiError;
use serde_json::Value;

/// The supported patch flavours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    /// RFC 7386 merge patch.
    Merge,
    /// Strategic merge patch, treated as [`PatchKind::Merge`].
    Strategic,
    /// Server-side apply, treated as a merge that may create.
    Apply,
    /// RFC 6902 JSON patch.
    Json,
}

impl PatchKind {
    /// From the request's `Content-Type`.
    pub fn from_content_type(ct: &str) -> Result<Self, ApiError> {
        let base = ct.split(';').next().unwrap_or("").trim();
        match base {
            "application/merge-patch+json" => Ok(Self::Merge),
            "application/strategic-merge-patch+json" => Ok(Self::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Ok(Self::Apply),
            "application/json-patch+json" => Ok(Self::Json),
            other => Err(ApiError::unsupported_media(other)),
        }
    }
}

/// Apply `patch` (raw body) to `target`.
pub fn apply(kind: PatchKind, target: &mut Value, patch: &[u8]) -> Result<(), ApiError> {
    match kind {
        PatchKind::Merge | PatchKind::Strategic | PatchKind::Apply => {
            let p: Value = serde_json::from_slice(patch).map_err(|e| {
                ApiError::bad_request(format!("patch body is not JSON (YAML is unsupported): {e}"))
            })?;
            if !p.is_object() {
                return Err(ApiError::bad_request("a merge patch must be a JSON object"));
            }
            json_patch::merge(target, &p);
            Ok(())
        }
        PatchKind::Json => {
            let p: json_patch::Patch = serde_json::from_slice(patch)
                .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
            json_patch::patch(target, &p).map_err(|e| {
                ApiError::new(
                    422,
                    "Invalid",
                    format!("the JSON patch failed to apply: {e}"),
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_removes_nulls_and_replaces_lists() {
        let mut t = json!({"a": 1, "b": {"c": 2, "d": 3}, "l": [1, 2]});
        let p = br#"{"b": {"c": null, "e": 4}, "l": [9]}"#;
        apply(PatchKind::Merge, &mut t, p).unwrap();
        assert_eq!(t, json!({"a": 1, "b": {"d": 3, "e": 4}, "l": [9]}));
    }

    #[test]
    fn json_patch_and_failed_test_op() {
        let mut t = json!({"a": [1]});
        apply(
            PatchKind::Json,
            &mut t,
            br#"[{"op":"add","path":"/a/-","value":2}]"#,
        )
        .unwrap();
        assert_eq!(t, json!({"a": [1, 2]}));
        let e = apply(
            PatchKind::Json,
            &mut t,
            br#"[{"op":"test","path":"/a/0","value":5}]"#,
        );
        assert_eq!(e.unwrap_err().code, 422);
    }

    #[test]
    fn content_types() {
        assert_eq!(
            PatchKind::from_content_type("application/apply-patch+yaml; charset=utf-8").unwrap(),
            PatchKind::Apply
        );
        assert_eq!(
            PatchKind::from_content_type("text/plain").unwrap_err().code,
            415
        );
    }
}
