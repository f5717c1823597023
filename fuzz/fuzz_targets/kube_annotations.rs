//! The Kubernetes annotations that choose a pod's pools
//! (`berth_kube::annotations::pools_for`, Berth's and Spiderpool's keys on
//! the pod and its namespace) and the filter of annotations forwarded to
//! policies (`forwarded`).
//!
//! Input (line-based, so seeds stay readable): the first line is the
//! interface; then `pod KEY=VALUE`, `ns KEY=VALUE` and `cni POOL` lines
//! (the CNI config's `ipam.pools`). Other lines are ignored.
//!
//! Properties:
//! * a Spiderpool annotation Berth does not support (SpiderSubnet's) is
//!   always refused, naming it;
//! * with none of the pool annotations present the answer is the CNI
//!   config's list, unchanged;
//! * pools that come from an annotation are a non-empty list of names of
//!   1..=253 bytes without `/`;
//! * an error names an annotation that is present;
//! * the pod's `berth.io/ippool` on the primary interface, with no
//!   `berth.io/ippools` or refused key present, gives exactly its
//!   comma-separated names;
//! * the answer is deterministic;
//! * only `berth.io/` and `ipam.spidernet.io/` annotations are forwarded,
//!   all of them.

#![no_main]

use berth_kube::annotations::{
    forwarded, pools_for, BERTH_POOL, BERTH_POOLS, FORWARDED_PREFIXES, NS_BERTH_DEFAULT,
    NS_SPIDER_V4, NS_SPIDER_V6, PRIMARY_INTERFACE, SPIDER_POOL, SPIDER_POOLS,
};
use berth_kube::spiderpool::REFUSED;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

const POD_KEYS: [&str; 4] = [BERTH_POOLS, BERTH_POOL, SPIDER_POOLS, SPIDER_POOL];
const NS_KEYS: [&str; 3] = [NS_BERTH_DEFAULT, NS_SPIDER_V4, NS_SPIDER_V6];

fuzz_target!(|data: &[u8]| {
    // Annotations are strings in the API.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let interface = lines.next().unwrap_or_default();
    let mut pod = BTreeMap::new();
    let mut ns = BTreeMap::new();
    let mut cni = Vec::new();
    for line in lines {
        if let Some(pair) = line.strip_prefix("pod ") {
            if let Some((k, v)) = pair.split_once('=') {
                pod.insert(k.to_owned(), v.to_owned());
            }
        } else if let Some(pair) = line.strip_prefix("ns ") {
            if let Some((k, v)) = pair.split_once('=') {
                ns.insert(k.to_owned(), v.to_owned());
            }
        } else if let Some(name) = line.strip_prefix("cni ") {
            cni.push(name.to_owned());
        }
    }

    let selection = pools_for(&pod, &ns, interface, &cni);
    assert_eq!(
        selection,
        pools_for(&pod, &ns, interface, &cni),
        "not deterministic"
    );
    let result: Result<Vec<String>, _> =
        selection.map(|s| s.pools.into_iter().map(|p| p.name).collect());
    if let Some(key) = REFUSED.iter().find(|k| pod.contains_key(**k)) {
        match &result {
            Err(e) => assert!(REFUSED.contains(&e.key.as_str()), "{e} (has {key})"),
            Ok(pools) => panic!("{key} accepted: {pools:?}"),
        }
        return;
    }
    let named = POD_KEYS.iter().any(|k| pod.contains_key(*k))
        || NS_KEYS.iter().any(|k| ns.contains_key(*k));
    match &result {
        Ok(pools) if !named => assert_eq!(pools, &cni),
        Ok(pools) if *pools != cni => {
            assert!(!pools.is_empty());
            for p in pools {
                assert!(
                    !p.is_empty() && p.len() <= 253 && !p.contains('/'),
                    "{p:?} accepted as a pool name"
                );
            }
        }
        Ok(_) => {}
        Err(e) => {
            assert!(
                POD_KEYS.contains(&e.key.as_str()) || NS_KEYS.contains(&e.key.as_str()),
                "error names an unknown key: {e}"
            );
            let present = pod.contains_key(&e.key) || ns.contains_key(&e.key);
            assert!(present, "error names an absent annotation: {e}");
        }
    }
    if interface == PRIMARY_INTERFACE && !pod.contains_key(BERTH_POOLS) {
        if let Some(value) = pod.get(BERTH_POOL) {
            let names: Vec<String> = value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            match &result {
                Ok(pools) => assert_eq!(pools, &names),
                Err(e) => assert_eq!(e.key, BERTH_POOL),
            }
        }
    }

    let kept: Vec<&String> = forwarded(&pod).map(|(k, _)| k).collect();
    let want: Vec<&String> = pod
        .keys()
        .filter(|k| FORWARDED_PREFIXES.iter().any(|p| k.starts_with(p)))
        .collect();
    assert_eq!(kept, want);
});
