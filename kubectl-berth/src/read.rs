//! Reading Berth's objects (and pods) from the API server, page by page.

use anyhow::Context;
use berth_core::record::AddressRecord;
use berth_kube::convert::{address_record, ConvertError};
use berth_kube::list::list_all;
use berth_kube::names::{label_value, LABEL_NODE, LABEL_POOL};
use berth_kube::{BerthAddress, BerthPool, BerthReservedIP};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};

/// One BerthAddress object and the record berthd reads from it (or why
/// berthd cannot read it).
#[derive(Debug, Clone)]
pub struct Held {
    pub object: BerthAddress,
    pub record: Result<AddressRecord, ConvertError>,
}

impl Held {
    pub fn new(object: BerthAddress) -> Self {
        let record = address_record(&object);
        Held { object, record }
    }

    pub fn name(&self) -> String {
        self.object.name_any()
    }
}

/// Every BerthPool.
pub async fn pools(client: &Client) -> anyhow::Result<Vec<BerthPool>> {
    let api: Api<BerthPool> = Api::all(client.clone());
    list_all(&api, &ListParams::default())
        .await
        .map_err(|e| anyhow::anyhow!("listing berthpools: {e}"))
}

/// Every BerthReservedIP.
pub async fn reserved(client: &Client) -> anyhow::Result<Vec<BerthReservedIP>> {
    let api: Api<BerthReservedIP> = Api::all(client.clone());
    list_all(&api, &ListParams::default())
        .await
        .map_err(|e| anyhow::anyhow!("listing berthreservedips: {e}"))
}

/// The BerthAddress objects, narrowed by pool and node on the server (by
/// label) and exactly here (a label may be a shortened hash of the name).
pub async fn addresses(
    client: &Client,
    pool: Option<&str>,
    node: Option<&str>,
) -> anyhow::Result<Vec<Held>> {
    let mut selectors = Vec::new();
    if let Some(p) = pool {
        selectors.push(format!("{LABEL_POOL}={}", label_value(p)));
    }
    if let Some(n) = node {
        selectors.push(format!("{LABEL_NODE}={}", label_value(n)));
    }
    let mut params = ListParams::default();
    if !selectors.is_empty() {
        params = params.labels(&selectors.join(","));
    }
    let api: Api<BerthAddress> = Api::all(client.clone());
    let objects = list_all(&api, &params)
        .await
        .map_err(|e| anyhow::anyhow!("listing berthaddresses: {e}"))?;
    Ok(objects
        .into_iter()
        .filter(|o| pool.is_none_or(|p| o.spec.pool == p))
        .filter(|o| node.is_none_or(|n| o.spec.node == n))
        .map(Held::new)
        .collect())
}

/// Every pod of the cluster.
pub async fn pods(client: &Client) -> anyhow::Result<Vec<Pod>> {
    let api: Api<Pod> = Api::all(client.clone());
    list_all(&api, &ListParams::default())
        .await
        .map_err(|e| anyhow::anyhow!("listing pods: {e}"))
}

/// One pod, read directly (not from a list taken earlier).
pub async fn pod(client: &Client, namespace: &str, name: &str) -> anyhow::Result<Option<Pod>> {
    Api::<Pod>::namespaced(client.clone(), namespace)
        .get_opt(name)
        .await
        .with_context(|| format!("reading pod {namespace}/{name}"))
}

/// One BerthAddress by name, read directly.
pub async fn address(client: &Client, name: &str) -> anyhow::Result<Option<Held>> {
    Ok(Api::<BerthAddress>::all(client.clone())
        .get_opt(name)
        .await
        .with_context(|| format!("reading berthaddresses/{name}"))?
        .map(Held::new))
}

/// Seconds since the epoch, from this machine's clock.
pub fn now_unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
