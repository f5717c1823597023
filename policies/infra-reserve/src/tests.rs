use super::*;
use berth_policy_sdk::harness::{candidate, pool, FakeView, Harness, RequestBuilder};

const SETTINGS: &str = r#"{
    "infra": {"matchLabels": {"role": "infra"}},
    "reserve": [{"pool": "lab", "range": "10.70.0.1-10.70.0.9"}]
}"#;

fn harness() -> Harness<InfraReserve> {
    Harness::new(SETTINGS).unwrap()
}

/// A request in pool `lab` whose sampled candidates are `sample`.
fn request(infra: bool, sample: &[&str]) -> Request {
    let b = RequestBuilder::new()
        .pools(vec![pool("lab", "10.70.0.0/24")])
        .candidates(sample.iter().map(|a| candidate("lab", a)).collect());
    if infra {
        b.label("role", "infra").build()
    } else {
        b.label("role", "web").build()
    }
}

/// The pool as the allocator sees it: `.1`–`.40` free, less `taken`.
fn view(req: &Request, taken: &[&str]) -> FakeView {
    let mut v = FakeView::of(req).free("lab", "10.70.0.1-10.70.0.40");
    for t in taken {
        v = v.taken("lab", t);
    }
    v
}

#[test]
fn an_infra_pod_gets_the_first_free_reserved_address_the_sample_missed() {
    let req = request(true, &["10.70.0.20", "10.70.0.21"]);
    let h = harness();
    assert_eq!(
        h.evaluate_with(&req, view(&req, &[])),
        Decision::Pick(candidate("lab", "10.70.0.1"))
    );
    assert_eq!(
        h.evaluate_with(&req, view(&req, &["10.70.0.1-10.70.0.3"])),
        Decision::Pick(candidate("lab", "10.70.0.4"))
    );
}

#[test]
fn a_full_reserve_rejects_infra_pods_unless_they_may_fall_back() {
    let req = request(true, &["10.70.0.20"]);
    let full = || view(&req, &["10.70.0.1-10.70.0.9"]);
    match harness().evaluate_with(&req, full()) {
        Decision::Reject(reason) => assert!(reason.contains("lab 10.70.0.1-10.70.0.9"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let lenient = SETTINGS.replace("\"reserve\"", "\"fallBackWhenFull\": true, \"reserve\"");
    let h = Harness::<InfraReserve>::new(&lenient).unwrap();
    assert_eq!(h.evaluate_with(&req, full()), Decision::Abstain);
}

#[test]
fn other_pods_never_see_reserved_candidates() {
    let req = request(
        false,
        &["10.70.0.8", "10.70.0.9", "10.70.0.10", "10.70.0.11"],
    );
    assert_eq!(
        harness().evaluate_with(&req, view(&req, &[])),
        Decision::Narrow(vec![
            candidate("lab", "10.70.0.10"),
            candidate("lab", "10.70.0.11")
        ])
    );
    let clean = request(false, &["10.70.0.30"]);
    assert_eq!(harness().evaluate(&clean), Decision::Abstain);
}

#[test]
fn other_pods_get_a_queried_address_when_the_sample_was_all_reserved() {
    let req = request(false, &["10.70.0.1", "10.70.0.2"]);
    assert_eq!(
        harness().evaluate_with(&req, view(&req, &["10.70.0.10-10.70.0.12"])),
        Decision::Pick(candidate("lab", "10.70.0.13"))
    );
    let only_reserve_free = view(&req, &["10.70.0.10-10.70.0.40"]);
    match harness().evaluate_with(&req, only_reserve_free) {
        Decision::Reject(reason) => assert!(reason.contains("only addresses reserved"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_requested_reserved_address_is_refused_to_other_pods() {
    let req = RequestBuilder::new()
        .pools(vec![pool("lab", "10.70.0.0/24")])
        .candidates(vec![candidate("lab", "10.70.0.5")])
        .requested("10.70.0.5")
        .build();
    assert!(matches!(harness().evaluate(&req), Decision::Reject(_)));
}

#[test]
fn settings_are_checked() {
    for bad in [
        r#"{"reserve": [{"pool": "lab", "range": "10.70.0.1-10.70.0.9"}]}"#,
        r#"{"infra": {"matchLabels": {"role": "infra"}}}"#,
        r#"{"infra": {"matchLabels": {"a": "b"}}, "reserve": [{"pool": "lab", "range": "10.70.0.9-10.70.0.1"}]}"#,
        r#"{"infra": {"matchLabels": {"a": "b"}}, "reserve": [{"pool": "", "range": "10.70.0.1"}]}"#,
    ] {
        assert!(Harness::<InfraReserve>::new(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_cooldown_passes_over_a_reserved_address_released_too_recently() {
    let settings = r#"{
        "infra": {"matchLabels": {"role": "infra"}},
        "reserve": [{"pool": "lab", "range": "10.70.0.1-10.70.0.9"}],
        "cooldownSecs": 300
    }"#;
    let h = Harness::<InfraReserve>::new(settings).unwrap();
    let req = request(true, &["10.70.0.20"]);
    let now = req.now_unix_secs;
    // .1 let go a minute ago, .2 an hour ago: .2 is the first that cooled.
    let v = view(&req, &[])
        .released("lab", "10.70.0.1", now - 60)
        .released("lab", "10.70.0.2", now - 3_600);
    assert_eq!(
        h.evaluate_with(&req, v),
        Decision::Pick(candidate("lab", "10.70.0.2"))
    );
    // Without the setting the release time is not read.
    let v = view(&req, &[]).released("lab", "10.70.0.1", now - 60);
    assert_eq!(
        harness().evaluate_with(&req, v),
        Decision::Pick(candidate("lab", "10.70.0.1"))
    );
}
