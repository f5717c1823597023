//! The BerthPool spec's validation in the CRD: `x-kubernetes-validations`
//! (CEL) rules and the size bounds the API server prices them by, added to
//! the schema schemars derives from [`BerthPoolSpec`]. They state what
//! `berth_core::pool`'s shape rules state (`pool_text.rs`), so `kubectl
//! apply` refuses a pool berthd could not use, naming the field:
//!
//! * `subnet` a canonical CIDR, and immutable;
//! * every `ips` / `excludeIps` entry an address, a CIDR or a range
//!   `start-end` of one family, with start ≤ end, inside `subnet`;
//! * `gateway` inside `subnet` and outside every range of `ips`;
//! * `routes` of the subnet's family.
//!
//! What needs every pool at once (overlaps) or the pool's arithmetic (no
//! assignable address left) is judged by berthd and reported in the
//! `Valid` condition. Bounds come from `berth_core::limits`: the API server
//! refuses a CRD whose rules could cost too much on the largest object.
//!
//! [`BerthPoolSpec`]: crate::crd_pool::BerthPoolSpec

use crate::cel_ip::ip_at_most;
use berth_core::limits::{
    ADDRESS_TEXT_BYTES_MAX, CIDR_TEXT_BYTES_MAX, POOL_ENTRIES_MAX, POOL_ENTRY_BYTES_MAX,
    POOL_ROUTES_MAX,
};
use serde_json::{json, Map, Value};

/// `#[schemars(transform = ...)]` of `BerthPoolSpec`.
pub(crate) fn add_pool_rules(schema: &mut schemars::Schema) {
    let Some(spec) = schema.as_object_mut() else {
        return;
    };
    let properties = spec.entry("properties").or_insert_with(|| json!({}));
    if let Some(subnet) = properties.get_mut("subnet").and_then(Value::as_object_mut) {
        subnet.insert("maxLength".into(), json!(CIDR_TEXT_BYTES_MAX));
        subnet.insert("x-kubernetes-validations".into(), subnet_rules());
    }
    for list in ["ips", "excludeIps"] {
        if let Some(entries) = properties.get_mut(list).and_then(Value::as_object_mut) {
            entries.insert("maxItems".into(), json!(POOL_ENTRIES_MAX));
            if let Some(item) = entries.get_mut("items").and_then(Value::as_object_mut) {
                item.insert("maxLength".into(), json!(POOL_ENTRY_BYTES_MAX));
                item.insert("x-kubernetes-validations".into(), entry_rules());
            }
        }
    }
    if let Some(gateway) = properties.get_mut("gateway").and_then(Value::as_object_mut) {
        gateway.insert("maxLength".into(), json!(ADDRESS_TEXT_BYTES_MAX));
    }
    if let Some(routes) = properties.get_mut("routes").and_then(Value::as_object_mut) {
        routes.insert("maxItems".into(), json!(POOL_ROUTES_MAX));
        let route = routes
            .get_mut("items")
            .and_then(|i| i.get_mut("properties"));
        if let Some(route) = route.and_then(Value::as_object_mut) {
            set_max_length(route, "dst", CIDR_TEXT_BYTES_MAX);
            set_max_length(route, "gw", ADDRESS_TEXT_BYTES_MAX);
        }
    }
    spec.insert("x-kubernetes-validations".into(), spec_rules());
}

fn set_max_length(properties: &mut Map<String, Value>, name: &str, max: usize) {
    if let Some(field) = properties.get_mut(name).and_then(Value::as_object_mut) {
        field.insert("maxLength".into(), json!(max));
    }
}

fn subnet_rules() -> Value {
    json!([
        {
            "rule": "isCIDR(self) && string(cidr(self).masked()) == self",
            "message": "subnet must be a CIDR in canonical form: no host bits set, IPv6 as \
                        RFC 5952 writes it (10.6.0.0/16, fd00:6::/64)",
        },
        {
            "rule": "self == oldSelf",
            "message": "subnet is immutable: the pool's addresses are held in it; create a new pool",
        },
    ])
}

/// `self` split at '-' is a range of two addresses of one family.
fn is_range(entry: &str) -> String {
    let (a, b) = (
        format!("{entry}.split('-')[0]"),
        format!("{entry}.split('-')[1]"),
    );
    format!(
        "({entry}.split('-').size() == 2 && isIP({a}) && isIP({b}) \
         && ip({a}).family() == ip({b}).family())"
    )
}

/// Rules on one entry of `ips` or `excludeIps` (the path names its index).
pub(crate) fn entry_rules() -> Value {
    let (a, b) = ("self.split('-')[0]", "self.split('-')[1]");
    json!([
        {
            "rule": format!("isIP(self) || isCIDR(self) || {}", is_range("self")),
            "message": "must be an IP address, a CIDR or a range start-end of two addresses \
                        of one family",
        },
        {
            "rule": format!("!{} || {}", is_range("self"), ip_at_most(a, b)),
            "message": "the range starts after its end",
        },
    ])
}

/// Whether entry `e` (of a well-formed spec) lies inside `subnet`.
fn inside_subnet(e: &str) -> String {
    let (a, b) = (format!("{e}.split('-')[0]"), format!("{e}.split('-')[1]"));
    format!(
        "(isCIDR({e}) ? cidr(self.subnet).containsCIDR({e}) \
         : isIP({e}) ? cidr(self.subnet).containsIP({e}) \
         : {} && cidr(self.subnet).containsIP({a}) && cidr(self.subnet).containsIP({b}))",
        is_range(e)
    )
}

/// Whether the gateway lies in entry `e`: start ≤ gateway ≤ end for a range.
fn gateway_in(e: &str) -> String {
    let g = "self.gateway";
    let (a, b) = (format!("{e}.split('-')[0]"), format!("{e}.split('-')[1]"));
    format!(
        "(isCIDR({e}) ? cidr({e}).containsIP({g}) \
         : isIP({e}) ? ip({e}) == ip({g}) \
         : {} && ip({a}).family() == ip({g}).family() \
           && (ip({a}) == ip({g}) || !({})) && {})",
        is_range(e),
        ip_at_most(g, &a),
        ip_at_most(g, &b),
    )
}

/// Rules across fields; `fieldPath` makes the error name the field.
fn spec_rules() -> Value {
    let within = |list: &str| {
        json!({
            "rule": format!(
                "!isCIDR(self.subnet) || !has(self.{list}) || self.{list}.all(e, {})",
                inside_subnet("e")
            ),
            "messageExpression": format!(
                "'{list} entry ' + self.{list}.filter(e, !{})[0] + ' is outside subnet ' + self.subnet",
                inside_subnet("e")
            ),
            "message": format!("every {list} entry must lie inside subnet"),
            "fieldPath": format!(".{list}"),
            "reason": "FieldValueInvalid",
        })
    };
    let family = "cidr(self.subnet).ip().family()";
    let route_ok = format!(
        "isCIDR(r.dst) && cidr(r.dst).ip().family() == {family} \
         && (!has(r.gw) || (isIP(r.gw) && ip(r.gw).family() == {family}))"
    );
    json!([
        within("ips"),
        within("excludeIps"),
        {
            "rule": "!has(self.gateway) || !isCIDR(self.subnet) \
                     || (isIP(self.gateway) && cidr(self.subnet).containsIP(self.gateway))",
            "message": "gateway must be an IP address inside subnet",
            "fieldPath": ".gateway",
            "reason": "FieldValueInvalid",
        },
        {
            "rule": format!(
                "!has(self.gateway) || !isIP(self.gateway) || !has(self.ips) \
                 || !self.ips.exists(e, {})",
                gateway_in("e")
            ),
            // Naming the entry would repeat the whole rule (tens of KB).
            "messageExpression": "'gateway ' + self.gateway + ' lies inside an entry of ips; \
                                  a gateway is never handed out'",
            "message": "gateway must lie outside every entry of ips",
            "fieldPath": ".gateway",
            "reason": "FieldValueInvalid",
        },
        {
            "rule": format!(
                "!has(self.routes) || !isCIDR(self.subnet) || self.routes.all(r, {route_ok})"
            ),
            // A filtered route's dst has no size bound the API server sees.
            "messageExpression": "'every route (dst and gw) must be of the family of subnet ' \
                                  + self.subnet",
            "message": "every route's dst and gw must be of the subnet's family",
            "fieldPath": ".routes",
            "reason": "FieldValueInvalid",
        },
    ])
}
