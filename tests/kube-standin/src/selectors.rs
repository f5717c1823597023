//! Label selectors (`=`, `==`, `!=`, `in`, `notin`, `key`, `!key`) and field
//! selectors (`=`, `==`, `!=` on any dotted path, e.g. `metadata.name`,
//! `metadata.namespace`, `spec.nodeName`, `status.phase`).

use crate::status::ApiError;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum LabelReq {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector; all requirements must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<LabelReq>);

/// A parsed field selector; all requirements must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')
}

impl LabelSelector {
    /// Parse the `labelSelector` query parameter.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let bad =
            |m: &str| ApiError::bad_request(format!("unable to parse requirement: {m} in {s:?}"));
        let chars: Vec<char> = s.chars().collect();
        let mut i = 0;
        let mut reqs = Vec::new();
        let skip_ws = |i: &mut usize| {
            while *i < chars.len() && chars[*i].is_whitespace() {
                *i += 1;
            }
        };
        let word = |i: &mut usize| {
            let start = *i;
            while *i < chars.len() && is_key_char(chars[*i]) {
                *i += 1;
            }
            chars[start..*i].iter().collect::<String>()
        };
        loop {
            skip_ws(&mut i);
            if i >= chars.len() {
                break;
            }
            let negated = chars[i] == '!';
            if negated {
                i += 1;
                skip_ws(&mut i);
            }
            let key = word(&mut i);
            if key.is_empty() {
                return Err(bad("empty key"));
            }
            skip_ws(&mut i);
            let rest: String = chars[i..].iter().collect();
            let req = if negated {
                LabelReq::NotExists(key)
            } else if i >= chars.len() || chars[i] == ',' {
                LabelReq::Exists(key)
            } else if rest.starts_with("!=") || rest.starts_with("==") || rest.starts_with('=') {
                let ne = rest.starts_with("!=");
                i += if rest.starts_with('=') && !rest.starts_with("==") {
                    1
                } else {
                    2
                };
                skip_ws(&mut i);
                let value = word(&mut i);
                if ne {
                    LabelReq::NotEq(key, value)
                } else {
                    LabelReq::Eq(key, value)
                }
            } else if rest.starts_with("notin") || rest.starts_with("in") {
                let not = rest.starts_with("notin");
                i += if not { 5 } else { 2 };
                skip_ws(&mut i);
                if chars.get(i) != Some(&'(') {
                    return Err(bad("expected '('"));
                }
                i += 1;
                let mut values = Vec::new();
                loop {
                    skip_ws(&mut i);
                    values.push(word(&mut i));
                    skip_ws(&mut i);
                    match chars.get(i) {
                        Some(',') => i += 1,
                        Some(')') => {
                            i += 1;
                            break;
                        }
                        _ => return Err(bad("expected ',' or ')'")),
                    }
                }
                if not {
                    LabelReq::NotIn(key, values)
                } else {
                    LabelReq::In(key, values)
                }
            } else {
                return Err(bad("unknown operator"));
            };
            reqs.push(req);
            skip_ws(&mut i);
            match chars.get(i) {
                None => break,
                Some(',') => i += 1,
                Some(_) => return Err(bad("expected ','")),
            }
        }
        Ok(Self(reqs))
    }

    /// Whether the object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = &obj["metadata"]["labels"];
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            LabelReq::Eq(k, v) => get(k) == Some(v.as_str()),
            LabelReq::NotEq(k, v) => get(k) != Some(v.as_str()),
            LabelReq::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            LabelReq::Exists(k) => get(k).is_some(),
            LabelReq::NotExists(k) => get(k).is_none(),
        })
    }
}

impl FieldSelector {
    /// Parse the `fieldSelector` query parameter.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, eq, value) = if let Some((k, v)) = part.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = part.split_once("==") {
                (k, true, v)
            } else if let Some((k, v)) = part.split_once('=') {
                (k, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid field selector: {part:?}"
                )));
            };
            reqs.push((key.trim().to_owned(), eq, value.trim().to_owned()));
        }
        Ok(Self(reqs))
    }

    /// Whether the object's fields satisfy every requirement. A missing field
    /// reads as `""` (so `spec.nodeName=` selects unscheduled pods).
    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(path, eq, want)| {
            let mut v = obj;
            for seg in path.split('.') {
                v = v.get(seg).unwrap_or(&Value::Null);
            }
            let got = match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (got == *want) == *eq
        })
    }
}

/// Both selectors of a list or watch request.
#[derive(Debug, Clone, Default)]
pub struct Selectors {
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
}

impl Selectors {
    /// Whether the object matches both selectors.
    pub fn matches(&self, obj: &Value) -> bool {
        self.labels.matches(obj) && self.fields.matches(obj)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "a", "namespace": "ns", "labels": labels}, "spec": {"nodeName": "n1"}})
    }

    #[test]
    fn label_operators() {
        let o = obj(json!({"app": "web", "tier": "fe"}));
        let m = |s: &str| LabelSelector::parse(s).map(|sel| sel.matches(&o));
        assert_eq!(m("app=web"), Ok(true));
        assert_eq!(m("app==web,tier=fe"), Ok(true));
        assert_eq!(m("app!=web"), Ok(false));
        assert_eq!(m("app in (db, web)"), Ok(true));
        assert_eq!(m("app notin (db,web)"), Ok(false));
        assert_eq!(m("missing notin (x)"), Ok(true));
        assert_eq!(m("tier"), Ok(true));
        assert_eq!(m("!tier"), Ok(false));
        assert_eq!(m("!other, app in (web)"), Ok(true));
        assert_eq!(m(""), Ok(true));
        assert!(m("app in web").is_err());
        assert!(m("app > 3").is_err());
    }

    #[test]
    fn field_operators() {
        let o = obj(json!({}));
        let m = |s: &str| FieldSelector::parse(s).map(|sel| sel.matches(&o));
        assert_eq!(m("metadata.name=a,metadata.namespace==ns"), Ok(true));
        assert_eq!(m("spec.nodeName!=n1"), Ok(false));
        assert_eq!(m("status.phase="), Ok(true));
        assert!(m("nonsense").is_err());
    }
}
