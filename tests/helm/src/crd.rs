//! Validates custom resources against a CustomResourceDefinition, the way
//! the API server (with kubectl's default strict field validation) would
//! for what a structural schema can express:
//!
//! * apiVersion is `<group>/<version>` of a served version, kind is the
//!   CRD's kind, metadata.name is a DNS subdomain, a cluster-scoped object
//!   has no namespace;
//! * the `openAPIV3Schema` of that version: type, properties, required,
//!   additionalProperties, items, enum, pattern, format (ipv4, ipv6, cidr,
//!   int32, int64), min/max (length, items, properties, value), nullable,
//!   allOf/anyOf/oneOf/not, `x-kubernetes-int-or-string`,
//!   `x-kubernetes-preserve-unknown-fields`, `x-kubernetes-list-type: set`;
//!   an unknown field where the schema lists properties is an error (the
//!   API server would prune it; `kubectl apply` refuses it).
//!
//! Not covered: `x-kubernetes-validations` (CEL rules) are counted in
//! [`Report::cel_rules_not_checked`] but not evaluated, and defaults are not
//! applied.

use regex::Regex;
use serde_json::Value;
use std::path::Path;

/// One CRD: names and the schema of each version.
#[derive(Debug, Clone)]
pub struct Crd {
    pub name: String,
    pub group: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
    /// (version name, served, openAPIV3Schema)
    pub versions: Vec<(String, bool, Value)>,
}

/// What a validation found.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub errors: Vec<String>,
    pub cel_rules_not_checked: usize,
}

impl Crd {
    pub fn load(path: &Path) -> Result<Crd, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let docs = crate::parse_yaml_docs(&text);
        let crd = docs
            .iter()
            .find(|d| d["kind"] == "CustomResourceDefinition")
            .ok_or_else(|| format!("{}: no CustomResourceDefinition", path.display()))?;
        Crd::from_value(crd).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn from_value(crd: &Value) -> Result<Crd, String> {
        if crd["apiVersion"] != "apiextensions.k8s.io/v1" {
            return Err(format!(
                "apiVersion {} is not apiextensions.k8s.io/v1",
                crd["apiVersion"]
            ));
        }
        let text = |p: &str| {
            crd.pointer(p)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("no {p}"))
        };
        let scope = text("/spec/scope")?;
        let mut versions = Vec::new();
        for v in crd["spec"]["versions"]
            .as_array()
            .ok_or("no spec.versions")?
        {
            let name = v["name"]
                .as_str()
                .ok_or("a version without name")?
                .to_owned();
            let served = v["served"].as_bool().unwrap_or(false);
            let schema = v
                .pointer("/schema/openAPIV3Schema")
                .cloned()
                .ok_or_else(|| format!("version {name} has no schema.openAPIV3Schema"))?;
            versions.push((name, served, schema));
        }
        Ok(Crd {
            name: text("/metadata/name")?,
            group: text("/spec/group")?,
            kind: text("/spec/names/kind")?,
            plural: text("/spec/names/plural")?,
            namespaced: scope == "Namespaced",
            versions,
        })
    }

    /// Validates one object; the report's `errors` is empty when it passes.
    pub fn validate(&self, object: &Value) -> Report {
        let mut report = Report::default();
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let schema = self
            .versions
            .iter()
            .find(|(name, served, _)| *served && api_version == format!("{}/{}", self.group, name));
        let Some((_, _, schema)) = schema else {
            report.errors.push(format!(
                "apiVersion {api_version:?} is not a served version of {}",
                self.name
            ));
            return report;
        };
        if object["kind"] != self.kind.as_str() {
            report
                .errors
                .push(format!("kind {} is not {}", object["kind"], self.kind));
        }
        match object.pointer("/metadata/name").and_then(Value::as_str) {
            Some(name) if is_dns_subdomain(name) => {}
            other => report
                .errors
                .push(format!("metadata.name {other:?} is not a DNS subdomain")),
        }
        let namespace = object.pointer("/metadata/namespace");
        if !self.namespaced && namespace.is_some() {
            report.errors.push(format!(
                "{} is cluster-scoped but metadata.namespace is set",
                self.kind
            ));
        }
        // apiVersion, kind and metadata are always allowed at the root,
        // whether or not the schema lists them.
        let mut object = object.clone();
        if let Some(map) = object.as_object_mut() {
            for key in ["apiVersion", "kind", "metadata"] {
                if schema.pointer(&format!("/properties/{key}")).is_none() {
                    map.remove(key);
                }
            }
        }
        check(schema, &object, "", &mut report);
        report
    }
}

pub fn is_dns_subdomain(name: &str) -> bool {
    let ok = Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
        .expect("regex");
    !name.is_empty() && name.len() <= 253 && ok.is_match(name)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_ok(expected: &str, v: &Value) -> bool {
    let actual = type_name(v);
    actual == expected || (expected == "number" && actual == "integer")
}

fn at(path: &str) -> &str {
    if path.is_empty() {
        "<root>"
    } else {
        path
    }
}

fn check(schema: &Value, v: &Value, path: &str, report: &mut Report) {
    let fail =
        |report: &mut Report, msg: String| report.errors.push(format!("{}: {msg}", at(path)));

    if let Some(rules) = schema
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
    {
        report.cel_rules_not_checked += rules.len();
    }
    if v.is_null() && schema["nullable"] == true {
        return;
    }
    if schema["x-kubernetes-int-or-string"] == true {
        if !matches!(type_name(v), "integer" | "string") {
            fail(
                report,
                format!("must be an integer or a string, not {}", type_name(v)),
            );
        }
    } else if let Some(t) = schema["type"].as_str() {
        if !type_ok(t, v) {
            fail(report, format!("must be of type {t}, not {}", type_name(v)));
            return;
        }
    }

    if let Some(options) = schema["enum"].as_array() {
        if !options.contains(v) {
            fail(
                report,
                format!("{v} is not one of {}", Value::Array(options.clone())),
            );
        }
    }

    match v {
        Value::String(s) => check_string(schema, s, path, report),
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            let excl_min = schema["exclusiveMinimum"] == true;
            let excl_max = schema["exclusiveMaximum"] == true;
            if let Some(min) = schema["minimum"].as_f64() {
                if x < min || (excl_min && x == min) {
                    fail(report, format!("{x} is below the minimum {min}"));
                }
            }
            if let Some(max) = schema["maximum"].as_f64() {
                if x > max || (excl_max && x == max) {
                    fail(report, format!("{x} is above the maximum {max}"));
                }
            }
            match schema["format"].as_str() {
                Some("int32") if n.as_i64().is_none_or(|i| i32::try_from(i).is_err()) => {
                    fail(report, format!("{n} is not an int32"));
                }
                Some("int64") if n.as_i64().is_none() => {
                    fail(report, format!("{n} is not an int64"))
                }
                _ => {}
            }
        }
        Value::Array(items) => {
            if let Some(min) = schema["minItems"].as_u64() {
                if (items.len() as u64) < min {
                    fail(
                        report,
                        format!("has {} items, fewer than {min}", items.len()),
                    );
                }
            }
            if let Some(max) = schema["maxItems"].as_u64() {
                if items.len() as u64 > max {
                    fail(
                        report,
                        format!("has {} items, more than {max}", items.len()),
                    );
                }
            }
            let unique = schema["uniqueItems"] == true || schema["x-kubernetes-list-type"] == "set";
            if unique {
                for (i, item) in items.iter().enumerate() {
                    if items[..i].contains(item) {
                        fail(report, format!("item {i} ({item}) is a duplicate"));
                    }
                }
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(item_schema, item, &format!("{path}[{i}]"), report);
                }
            }
        }
        Value::Object(map) => {
            if let Some(required) = schema["required"].as_array() {
                for key in required.iter().filter_map(Value::as_str) {
                    if !map.contains_key(key) {
                        fail(report, format!("required field {key:?} is missing"));
                    }
                }
            }
            if let Some(min) = schema["minProperties"].as_u64() {
                if (map.len() as u64) < min {
                    fail(report, format!("has fewer than {min} fields"));
                }
            }
            if let Some(max) = schema["maxProperties"].as_u64() {
                if map.len() as u64 > max {
                    fail(report, format!("has more than {max} fields"));
                }
            }
            let properties = schema["properties"].as_object();
            let preserve = schema["x-kubernetes-preserve-unknown-fields"] == true;
            for (key, value) in map {
                let child = format!("{path}.{key}");
                if let Some(prop) = properties.and_then(|p| p.get(key)) {
                    check(prop, value, &child, report);
                    continue;
                }
                match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => fail(report, format!("unknown field {key:?}")),
                    Some(Value::Bool(true)) => {}
                    Some(extra @ Value::Object(_)) => check(extra, value, &child, report),
                    _ if properties.is_some() && !preserve => {
                        fail(report, format!("unknown field {key:?}"));
                    }
                    _ => {}
                }
            }
        }
        Value::Bool(_) | Value::Null => {}
    }

    if let Some(all) = schema["allOf"].as_array() {
        for sub in all {
            check(sub, v, path, report);
        }
    }
    let passes = |sub: &Value| {
        let mut scratch = Report::default();
        check(sub, v, path, &mut scratch);
        scratch.errors.is_empty()
    };
    if let Some(any) = schema["anyOf"].as_array() {
        if !any.iter().any(passes) {
            fail(report, "matches none of anyOf".to_owned());
        }
    }
    if let Some(one) = schema["oneOf"].as_array() {
        let n = one.iter().filter(|s| passes(s)).count();
        if n != 1 {
            fail(report, format!("matches {n} of oneOf, not exactly one"));
        }
    }
    if let Some(not) = schema.get("not") {
        if passes(not) {
            fail(report, "matches the schema under `not`".to_owned());
        }
    }
}

fn check_string(schema: &Value, s: &str, path: &str, report: &mut Report) {
    let mut fail = |msg: String| report.errors.push(format!("{}: {msg}", at(path)));
    let len = s.chars().count() as u64;
    if let Some(min) = schema["minLength"].as_u64() {
        if len < min {
            fail(format!("{s:?} is shorter than {min}"));
        }
    }
    if let Some(max) = schema["maxLength"].as_u64() {
        if len > max {
            fail(format!("{s:?} is longer than {max}"));
        }
    }
    if let Some(pattern) = schema["pattern"].as_str() {
        match Regex::new(pattern) {
            Ok(re) if re.is_match(s) => {}
            Ok(_) => fail(format!("{s:?} does not match {pattern:?}")),
            Err(e) => fail(format!(
                "the schema's pattern {pattern:?} does not compile: {e}"
            )),
        }
    }
    let format_ok = match schema["format"].as_str() {
        Some("ipv4") => s.parse::<std::net::Ipv4Addr>().is_ok(),
        Some("ipv6") => s.parse::<std::net::Ipv6Addr>().is_ok(),
        Some("cidr") => s.parse::<ipnet::IpNet>().is_ok(),
        _ => true,
    };
    if !format_ok {
        fail(format!("{s:?} is not a valid {}", schema["format"]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A structural schema in the shape of a pool CRD, to prove the
    /// validator catches each kind of mistake (it must be able to fail).
    fn crd() -> Crd {
        Crd::from_value(&json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "things.example.io"},
            "spec": {
                "group": "example.io",
                "scope": "Cluster",
                "names": {"kind": "Thing", "plural": "things"},
                "versions": [{
                    "name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "apiVersion": {"type": "string"},
                            "kind": {"type": "string"},
                            "metadata": {"type": "object"},
                            "spec": {
                                "type": "object",
                                "required": ["subnet"],
                                "properties": {
                                    "subnet": {"type": "string", "format": "cidr"},
                                    "ips": {"type": "array", "items": {"type": "string", "pattern": "^[0-9.]+(-[0-9.]+)?$"}, "x-kubernetes-list-type": "set"},
                                    "mode": {"type": "string", "enum": ["a", "b"]},
                                    "count": {"type": "integer", "minimum": 1, "format": "int32"},
                                    "port": {"x-kubernetes-int-or-string": true},
                                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                                    "gw": {"type": "string", "nullable": true},
                                    "either": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                                               "oneOf": [{"required": ["a"]}, {"required": ["b"]}]}
                                },
                                "x-kubernetes-validations": [{"rule": "true"}]
                            }
                        }
                    }}
                }]
            }
        }))
        .unwrap()
    }

    fn thing(spec: Value) -> Value {
        json!({"apiVersion": "example.io/v1", "kind": "Thing", "metadata": {"name": "t1"}, "spec": spec})
    }

    #[test]
    fn a_valid_object_passes_and_cel_rules_are_counted() {
        let report = crd().validate(&thing(json!({
            "subnet": "10.6.0.0/16", "ips": ["10.6.168.101-10.6.168.110"], "mode": "a",
            "count": 3, "port": "http", "labels": {"x": "y"}, "free": {"any": [1]},
            "gw": null, "either": {"a": "x"}
        })));
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.cel_rules_not_checked, 1);
    }

    #[test]
    fn each_kind_of_mistake_is_reported() {
        let cases = [
            (json!({}), "required field \"subnet\""),
            (json!({"subnet": "10.6.0.0/33"}), "not a valid"),
            (json!({"subnet": 5}), "must be of type string"),
            (
                json!({"subnet": "10.6.0.0/16", "sbunet": "x"}),
                "unknown field \"sbunet\"",
            ),
            (
                json!({"subnet": "10.6.0.0/16", "ips": ["x"]}),
                "does not match",
            ),
            (
                json!({"subnet": "10.6.0.0/16", "ips": ["1.1.1.1", "1.1.1.1"]}),
                "duplicate",
            ),
            (
                json!({"subnet": "10.6.0.0/16", "mode": "c"}),
                "is not one of",
            ),
            (
                json!({"subnet": "10.6.0.0/16", "count": 0}),
                "below the minimum",
            ),
            (
                json!({"subnet": "10.6.0.0/16", "count": 5_000_000_000_i64}),
                "not an int32",
            ),
            (
                json!({"subnet": "10.6.0.0/16", "port": true}),
                "integer or a string",
            ),
            (
                json!({"subnet": "10.6.0.0/16", "labels": {"x": 1}}),
                "spec.labels.x",
            ),
            (
                json!({"subnet": "10.6.0.0/16", "either": {"a": "x", "b": "y"}}),
                "oneOf",
            ),
        ];
        for (spec, expected) in cases {
            let report = crd().validate(&thing(spec.clone()));
            assert!(
                report.errors.iter().any(|e| e.contains(expected)),
                "{spec}: expected an error containing {expected:?}, got {:?}",
                report.errors
            );
        }
    }

    #[test]
    fn identity_mistakes_are_reported() {
        let crd = crd();
        let mut wrong_version = thing(json!({"subnet": "10.0.0.0/8"}));
        wrong_version["apiVersion"] = json!("example.io/v2");
        assert!(!crd.validate(&wrong_version).errors.is_empty());

        let mut namespaced = thing(json!({"subnet": "10.0.0.0/8"}));
        namespaced["metadata"]["namespace"] = json!("default");
        assert!(crd.validate(&namespaced).errors[0].contains("cluster-scoped"));

        let mut bad_name = thing(json!({"subnet": "10.0.0.0/8"}));
        bad_name["metadata"]["name"] = json!("Test_Pool");
        assert!(crd.validate(&bad_name).errors[0].contains("DNS subdomain"));

        let mut wrong_kind = thing(json!({"subnet": "10.0.0.0/8"}));
        wrong_kind["kind"] = json!("Other");
        assert!(crd.validate(&wrong_kind).errors[0].contains("kind"));
    }
}
