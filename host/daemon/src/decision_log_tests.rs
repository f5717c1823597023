use super::*;
use berth_proto::{Attachment, ErrorKind, PodRef};

fn entry(fixture_bytes: usize) -> Kept {
    Kept {
        seq: 0,
        pool: "p".into(),
        pod_uid: "u".into(),
        container_id: "c".into(),
        placed_by: Some("sticky-statefulset 0.1.0".into()),
        fixture: Some("x".repeat(fixture_bytes).into_boxed_str()),
    }
}

fn address(n: usize) -> IpAddr {
    IpAddr::from([10, 0, (n >> 8) as u8, n as u8])
}

#[test]
fn kept_requests_stay_within_their_count_dropping_the_oldest() {
    let mut kept = KeptRequests::default();
    for n in 0..KEPT_REQUESTS_MAX + 10 {
        kept.insert(address(n), entry(10));
    }
    assert_eq!(kept.by_address.len(), KEPT_REQUESTS_MAX);
    assert!(!kept.by_address.contains_key(&address(9)));
    assert!(kept.by_address.contains_key(&address(10)));
    assert!(kept
        .by_address
        .contains_key(&address(KEPT_REQUESTS_MAX + 9)));
    assert!(kept.order.len() <= 2 * KEPT_REQUESTS_MAX);
}

#[test]
fn kept_requests_stay_within_their_bytes() {
    let mut kept = KeptRequests::default();
    let size = ADMIN_PAGE_BYTES_MAX;
    for n in 0..KEPT_REQUESTS_BYTES_MAX / size + 20 {
        kept.insert(address(n), entry(size));
    }
    assert!(kept.bytes <= KEPT_REQUESTS_BYTES_MAX, "{}", kept.bytes);
    let sum: usize = kept.by_address.values().map(Kept::bytes).sum();
    assert_eq!(kept.bytes, sum, "the running total matches the entries");
    assert!(kept.by_address.len() >= KEPT_REQUESTS_BYTES_MAX / size - 1);
}

#[test]
fn a_replaced_request_neither_evicts_others_nor_leaks_its_queue_slot() {
    let mut kept = KeptRequests::default();
    kept.insert(address(1), entry(10));
    kept.insert(address(2), entry(10));
    // The same address reallocated many times: one entry, the newest.
    for _ in 0..3 * KEPT_REQUESTS_MAX {
        kept.insert(address(1), entry(20));
    }
    assert_eq!(kept.by_address.len(), 2);
    assert!(kept.by_address.contains_key(&address(2)));
    assert!(kept.order.len() <= 2 * KEPT_REQUESTS_MAX + 1);
    assert_eq!(kept.bytes, 2 * 3 + 20 + 10);
}

#[test]
fn refusals_keep_the_newest_with_their_reason() {
    let log = DecisionLog::default();
    let add = AddRequest {
        attachment: Attachment {
            container_id: "c1".into(),
            ifname: "eth0".into(),
        },
        network: "net".into(),
        pod: PodRef {
            namespace: "default".into(),
            name: "web-0".into(),
            uid: "u".into(),
        },
        pools: Vec::new(),
        requested_ips: Vec::new(),
        clean_gateway: None,
        labels: Vec::new(),
    };
    for n in 0..KEPT_REFUSALS_MAX + 3 {
        let error = ErrorBody {
            kind: ErrorKind::PoolExhausted,
            message: format!("refusal {n}"),
        };
        log.refused(&add, &error, &[], n as u64);
    }
    let kept = log.refusals();
    assert_eq!(kept.len(), KEPT_REFUSALS_MAX);
    assert_eq!(kept[0].reason, "refusal 3");
    let last = kept.last().expect("one");
    assert_eq!(last.reason, format!("refusal {}", KEPT_REFUSALS_MAX + 2));
    assert_eq!(last.pod, "default/web-0");
    assert_eq!(last.policy, None, "no policy ran");
}
