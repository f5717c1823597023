//! Listing every object of a kind, page by page (`limit`/`continue`), so
//! a cluster with many addresses is never fetched in one response.

use crate::limits::KUBE_LIST_PAGE_OBJECTS;
use crate::retry::{with_retries, Failure};
use kube::api::{Api, ListParams};
use kube::Resource;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// Every object matching `params` (its `limit`/`continue` are set here).
pub async fn list_all<K>(api: &Api<K>, params: &ListParams) -> Result<Vec<K>, Failure>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    Ok(list_all_versioned(api, params).await?.0)
}

/// [`list_all`], with the resourceVersion of the list (its first page:
/// later pages of a paged list are served from the same snapshot), from
/// which a watch continues without a gap.
pub async fn list_all_versioned<K>(
    api: &Api<K>,
    params: &ListParams,
) -> Result<(Vec<K>, String), Failure>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let mut out = Vec::new();
    let version = list_each_versioned(api, params, |item| out.push(item)).await?;
    Ok((out, version))
}

/// [`list_all_versioned`], handing each object to `each` as its page
/// arrives instead of collecting them: a node starting in a cluster of
/// 100,000 addresses then holds one page of objects at a time, not every
/// object beside what it makes of them (the kube_scale bench measured a
/// 600 MiB start-up peak that way). Returns the list's resourceVersion.
pub async fn list_each_versioned<K>(
    api: &Api<K>,
    params: &ListParams,
    mut each: impl FnMut(K),
) -> Result<String, Failure>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let mut version = None;
    let mut token: Option<String> = None;
    loop {
        let mut page = params.clone().limit(KUBE_LIST_PAGE_OBJECTS);
        if let Some(t) = &token {
            page = page.continue_token(t);
        }
        let list = with_retries(|| api.list(&page)).await.result?;
        if version.is_none() {
            version = Some(list.metadata.resource_version.unwrap_or_default());
        }
        list.items.into_iter().for_each(&mut each);
        match list.metadata.continue_ {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => return Ok(version.unwrap_or_default()),
        }
    }
}
