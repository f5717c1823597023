//! Spiderpool's CustomResourceDefinitions from our types, for a cluster
//! standing in for one where Spiderpool is installed: scopes, short names
//! and the status subresource as Spiderpool declares them (SpiderIPPool
//! has one; SpiderEndpoint keeps everything in a plain `status` field
//! without a subresource).

use super::spider::{SpiderIPPool, SpiderReservedIP, WorkloadEndpointStatus, GROUP, VERSION};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

/// The three definitions, for a test cluster standing in for one where
/// Spiderpool is installed.
pub fn crds() -> anyhow::Result<Vec<CustomResourceDefinition>> {
    Ok(vec![
        SpiderIPPool::crd(),
        SpiderReservedIP::crd(),
        endpoint_crd()?,
    ])
}

/// SpiderEndpoint has no spec, so the derive (which makes one) does not
/// fit; its schema comes from the same generator settings the derive uses.
fn endpoint_crd() -> anyhow::Result<CustomResourceDefinition> {
    let generator = schemars::generate::SchemaSettings::openapi3()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .with_transform(schemars::transform::AddNullable::default())
        .with_transform(kube::core::schema::StructuralSchemaRewriter)
        .into_generator();
    let status = generator.into_root_schema_for::<WorkloadEndpointStatus>();
    let crd = serde_json::json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": { "name": format!("spiderendpoints.{GROUP}") },
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": "SpiderEndpoint",
                "plural": "spiderendpoints",
                "singular": "spiderendpoint",
                "shortNames": ["se"],
                "categories": ["spiderpool"],
            },
            "versions": [{
                "name": VERSION,
                "served": true,
                "storage": true,
                "additionalPrinterColumns": [
                    { "name": "INTERFACE", "type": "string", "jsonPath": ".status.current.ips[0].interface" },
                    { "name": "IPV4POOL", "type": "string", "jsonPath": ".status.current.ips[0].ipv4Pool" },
                    { "name": "IPV4", "type": "string", "jsonPath": ".status.current.ips[0].ipv4" },
                    { "name": "NODE", "type": "string", "jsonPath": ".status.current.node" },
                ],
                "schema": { "openAPIV3Schema": {
                    "type": "object",
                    "properties": { "status": status },
                }},
            }],
        },
    });
    Ok(serde_json::from_value(crd)?)
}
