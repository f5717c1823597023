//! Every error of a `failurePolicy: Ignore` policy is logged at WARN with
//! the policy's name and the error's message, rate-limited per policy; the
//! metrics still count every one.

mod support;

use berth_core::chain::FailurePolicy;
use berth_policy_runtime::{Runtime, RuntimeLimits};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// An event's level and its (name, value) fields.
type Event = (tracing::Level, Vec<(String, String)>);

/// Every event outside the guests' own log target.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<Event>>>);

impl<S: tracing::Subscriber> Layer<S> for Captured {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        struct Fields(Vec<(String, String)>);
        impl Visit for Fields {
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                self.0.push((field.name().to_owned(), format!("{value:?}")));
            }
            fn record_str(&mut self, field: &Field, value: &str) {
                self.0.push((field.name().to_owned(), value.to_owned()));
            }
            fn record_u64(&mut self, field: &Field, value: u64) {
                self.0.push((field.name().to_owned(), value.to_string()));
            }
        }
        if event.metadata().target() == berth_policy_runtime::LOG_TARGET {
            return;
        }
        let mut fields = Fields(Vec::new());
        event.record(&mut fields);
        if let Ok(mut events) = self.0.lock() {
            events.push((*event.metadata().level(), fields.0));
        }
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn ignored_errors_are_logged_at_warn_with_policy_and_message_rate_limited() {
    let runtime = Runtime::new(RuntimeLimits {
        ignored_warnings_per_window: 3,
        ignored_warning_window: Duration::from_secs(3600),
        ..RuntimeLimits::default()
    })
    .expect("runtime starts");
    let chain = runtime
        .load_chain(&[
            hostile("fragile", "trap", FailurePolicy::Ignore),
            builtin("sticky", "sticky-statefulset", serde_json::json!({})),
        ])
        .expect("loads");
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry().with(captured.clone());
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..8 {
            run(&chain, &sts("default", "test-sts", 0), &TestHost::default())
                .expect("the ignored policy does not fail the chain");
        }
    });
    let events = captured.0.lock().expect("not poisoned").clone();
    let warnings: Vec<_> = events
        .iter()
        .filter(|(level, fields)| {
            *level == tracing::Level::WARN && field(fields, "policy") == Some("fragile")
        })
        .collect();
    assert_eq!(
        warnings.len(),
        3,
        "the window's quota, no more: {events:#?}"
    );
    for (_, fields) in &warnings {
        let message = field(fields, "message").unwrap_or_default();
        assert!(message.contains("failurePolicy: Ignore"), "{message}");
        assert!(
            message.contains("hostile-trap panics on purpose"),
            "{message}"
        );
        assert_eq!(field(fields, "kind"), Some("Trap"));
        assert_eq!(field(fields, "phase"), Some("Evaluate"));
    }
    let metrics = runtime.metrics();
    let fragile = metrics.policy("fragile").expect("counted");
    assert_eq!(fragile.ignored_errors, 8, "every error is counted");
}
