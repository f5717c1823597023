//! URL paths and query parameters of the Kubernetes REST API.
//!
//! `/api/v1/...` is the core group, `/apis/<group>/<version>/...` the others;
//! below that: `[namespaces/<ns>/]<plural>[/<name>[/<subresource>]]`.

use crate::status::ApiError;
use std::collections::HashMap;

/// A parsed resource path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePath {
    /// API group ("" for core).
    pub group: String,
    /// API version.
    pub version: String,
    /// Namespace from the path, if any.
    pub namespace: Option<String>,
    /// Plural resource name.
    pub plural: String,
    /// Object name, if any.
    pub name: Option<String>,
    /// Subresource (`status`), if any.
    pub subresource: Option<String>,
}

impl ResourcePath {
    /// Parse a request path (without query).
    pub fn parse(path: &str) -> Result<Self, ApiError> {
        let not_found = || {
            ApiError::new(
                404,
                "NotFound",
                format!("the server could not find the requested resource ({path})"),
            )
        };
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let (group, version, rest) = match segs.as_slice() {
            ["api", v, rest @ ..] => ("", *v, rest),
            ["apis", g, v, rest @ ..] => (*g, *v, rest),
            _ => return Err(not_found()),
        };
        let own = |s: Option<&&str>| s.map(|s| (*s).to_owned());
        let namespace_sub = group.is_empty()
            && rest.len() == 3
            && rest[0] == "namespaces"
            && matches!(rest[2], "status" | "finalize");
        let (namespace, tail) = match rest {
            ["namespaces", ns, tail @ ..] if !tail.is_empty() && !namespace_sub => {
                (Some((*ns).to_owned()), tail)
            }
            _ => (None, rest),
        };
        let [plural, more @ ..] = tail else {
            return Err(not_found());
        };
        let (plural, name, sub) = (*plural, own(more.first()), own(more.get(1)));
        if more.len() > 2 {
            return Err(not_found());
        }
        Ok(Self {
            group: group.to_owned(),
            version: version.to_owned(),
            namespace,
            plural: plural.to_owned(),
            name,
            subresource: sub,
        })
    }
}

/// Query parameters, last value wins.
pub fn query(q: Option<&str>) -> HashMap<String, String> {
    form_urlencoded::parse(q.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// A boolean query flag (`true` or `1`).
pub fn flag(q: &HashMap<String, String>, key: &str) -> bool {
    q.get(key).is_some_and(|v| v == "true" || v == "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> (Option<String>, String, Option<String>, Option<String>) {
        let r = ResourcePath::parse(s).unwrap();
        (r.namespace, r.plural, r.name, r.subresource)
    }
    fn o(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn shapes() {
        assert_eq!(p("/api/v1/pods"), (None, "pods".into(), None, None));
        assert_eq!(
            p("/api/v1/namespaces/d/pods/a/status"),
            (o("d"), "pods".into(), o("a"), o("status"))
        );
        assert_eq!(
            p("/api/v1/namespaces/d"),
            (None, "namespaces".into(), o("d"), None)
        );
        assert_eq!(
            p("/api/v1/namespaces/d/status"),
            (None, "namespaces".into(), o("d"), o("status"))
        );
        assert_eq!(
            p("/api/v1/nodes/n1/status"),
            (None, "nodes".into(), o("n1"), o("status"))
        );
        assert_eq!(
            p("/apis/berth.io/v1alpha1/berthpools/p"),
            (None, "berthpools".into(), o("p"), None)
        );
        assert_eq!(
            p("/apis/apps/v1/namespaces/d/statefulsets"),
            (o("d"), "statefulsets".into(), None, None)
        );
        assert!(ResourcePath::parse("/healthz").is_err());
    }
}
