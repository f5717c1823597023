use super::*;
use crate::query;

/// Picks the address its settings name, free or not, after asking the
/// host what it thinks of it.
struct PickThis;

impl Policy for PickThis {
    type Settings = String;
    const NAME: &'static str = "pick-this";
    const VERSION: &'static str = "1";

    fn evaluate(address: &String, request: &Request) -> Decision {
        let pool = &request.pools[0].name;
        if !query::is_free(pool, address) {
            crate::log::info(&format!("{address} is not free"));
        }
        Decision::Pick(candidate(pool, address))
    }
}

fn lab() -> Request {
    RequestBuilder::new()
        .pools(vec![pool("lab", "10.70.0.0/24")])
        .candidates(vec![candidate("lab", "10.70.0.20")])
        .build()
}

#[test]
fn a_pick_the_host_would_refuse_fails_the_test_with_the_hosts_reason() {
    let h = Harness::<PickThis>::new(r#""10.70.0.5""#).unwrap();
    let error = h.check(&lab(), FakeView::of(&lab())).unwrap_err();
    assert_eq!(error.kind, crate::chain::PolicyErrorKind::InvalidAnswer);
    assert_eq!(error.message, "pick lab/10.70.0.5 is not a legal candidate");
    let panicked = std::panic::catch_unwind(|| h.run(&lab(), &[])).unwrap_err();
    let message = panicked
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("not a legal candidate"), "{message}");
    // Free in the view (a query said so), the same pick is legal.
    let view = FakeView::of(&lab()).free("lab", "10.70.0.1-10.70.0.9");
    assert_eq!(
        h.evaluate_with(&lab(), view),
        Decision::Pick(candidate("lab", "10.70.0.5"))
    );
}

#[test]
fn queries_are_answered_from_the_view_with_the_hosts_bounds() {
    let view = FakeView::of(&lab())
        .free("lab", "10.70.0.1-10.70.1.255")
        .taken("lab", "10.70.0.2")
        .released("lab", "10.70.0.3", 42);
    let answers = with_view(Rc::new(view), || {
        (
            query::is_free("lab", "10.70.0.1"),
            query::is_free("lab", "10.70.0.2"),
            query::is_free("other", "10.70.0.1"),
            query::is_free("lab", "not an address"),
            query::free_in_range("lab", "10.70.0.1", "10.70.0.4", 10),
            query::free_in_range("lab", "10.70.0.4", "10.70.0.1", 10),
            query::free_in_range("lab", "10.70.0.0", "10.70.1.255", u32::MAX).len(),
            query::released_at("lab", "10.70.0.3"),
            query::released_at("lab", "10.70.0.4"),
        )
    });
    assert_eq!(
        answers,
        (
            true,
            false,
            false,
            false,
            vec!["10.70.0.1".into(), "10.70.0.3".into(), "10.70.0.4".into()],
            vec![],
            crate::limits::QUERY_RANGE_RESULTS_MAX,
            Some(42),
            None,
        )
    );
    // Outside a harness call nothing is free.
    assert!(!query::is_free("lab", "10.70.0.1"));
}
