//! A Kubernetes-style label selector: matchLabels plus matchExpressions
//! with In, NotIn, Exists and DoesNotExist.

use crate::KeyValue;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub match_expressions: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    #[serde(default)]
    pub values: Vec<String>,
}

/// Unknown operators fail to deserialize, naming the accepted ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl LabelSelector {
    /// Checks what the type cannot: In/NotIn need values, Exists and
    /// DoesNotExist take none (Kubernetes refuses both mistakes too).
    pub fn validate(&self) -> Result<(), String> {
        for (i, req) in self.match_expressions.iter().enumerate() {
            if req.key.is_empty() {
                return Err(format!("matchExpressions[{i}]: key must not be empty"));
            }
            match req.operator {
                Operator::In | Operator::NotIn if req.values.is_empty() => {
                    return Err(format!(
                        "matchExpressions[{i}] ({}): {:?} needs at least one value",
                        req.key, req.operator
                    ))
                }
                Operator::Exists | Operator::DoesNotExist if !req.values.is_empty() => {
                    return Err(format!(
                        "matchExpressions[{i}] ({}): {:?} takes no values",
                        req.key, req.operator
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Whether `labels` satisfy every term. An empty selector matches all.
    pub fn matches(&self, labels: &[KeyValue]) -> bool {
        let get = |key: &str| labels.iter().find(|kv| kv.key == key).map(|kv| &kv.value);
        self.match_labels.iter().all(|(k, v)| get(k) == Some(v))
            && self.match_expressions.iter().all(|req| {
                let value = get(&req.key);
                match req.operator {
                    Operator::In => value.is_some_and(|v| req.values.contains(v)),
                    Operator::NotIn => value.is_none_or(|v| !req.values.contains(v)),
                    Operator::Exists => value.is_some(),
                    Operator::DoesNotExist => value.is_none(),
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Vec<KeyValue> {
        pairs
            .iter()
            .map(|(k, v)| KeyValue {
                key: (*k).into(),
                value: (*v).into(),
            })
            .collect()
    }

    fn sel(json: &str) -> LabelSelector {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn table() {
        let pod = labels(&[("app", "db"), ("tier", "gold")]);
        let cases = [
            (r#"{}"#, true),
            (r#"{"matchLabels": {"app": "db"}}"#, true),
            (r#"{"matchLabels": {"app": "web"}}"#, false),
            (r#"{"matchLabels": {"app": "db", "zone": "a"}}"#, false),
            (
                r#"{"matchExpressions": [{"key": "tier", "operator": "In", "values": ["gold", "silver"]}]}"#,
                true,
            ),
            (
                r#"{"matchExpressions": [{"key": "tier", "operator": "In", "values": ["bronze"]}]}"#,
                false,
            ),
            (
                r#"{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}"#,
                false,
            ),
            (
                r#"{"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["gold"]}]}"#,
                false,
            ),
            (
                r#"{"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}"#,
                true,
            ),
            (
                r#"{"matchExpressions": [{"key": "app", "operator": "Exists"}]}"#,
                true,
            ),
            (
                r#"{"matchExpressions": [{"key": "zone", "operator": "Exists"}]}"#,
                false,
            ),
            (
                r#"{"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}"#,
                true,
            ),
            (
                r#"{"matchLabels": {"app": "db"}, "matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}"#,
                false,
            ),
        ];
        for (json, want) in cases {
            let s = sel(json);
            s.validate().unwrap();
            assert_eq!(s.matches(&pod), want, "{json}");
        }
    }

    #[test]
    fn invalid_selectors_are_refused() {
        let err = serde_json::from_str::<LabelSelector>(
            r#"{"matchExpressions": [{"key": "a", "operator": "Contains"}]}"#,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("unknown variant `Contains`"),
            "{err}"
        );
        for (json, want) in [
            (
                r#"{"matchExpressions": [{"key": "a", "operator": "In"}]}"#,
                "needs at least one value",
            ),
            (
                r#"{"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}"#,
                "takes no values",
            ),
            (
                r#"{"matchExpressions": [{"key": "", "operator": "Exists"}]}"#,
                "key must not be empty",
            ),
        ] {
            let err = sel(json).validate().unwrap_err();
            assert!(err.contains(want), "{json}: {err}");
        }
        assert!(serde_json::from_str::<LabelSelector>(r#"{"matchLabel": {}}"#).is_err());
    }
}
