//! Fault points for tests that must see what happens when berthd itself
//! breaks, which no outside input can cause on purpose. Read once from the
//! environment; never set outside tests.
//!
//! * `BERTH_FAULT_PANIC_ON_CONTAINER=<id>`: a request for that container
//!   panics inside the handler, as a broken invariant assertion would.

use berth_proto::Request;
use std::sync::OnceLock;

pub const PANIC_ON_CONTAINER_ENV: &str = "BERTH_FAULT_PANIC_ON_CONTAINER";

fn panic_on_container() -> Option<&'static str> {
    static ID: OnceLock<Option<String>> = OnceLock::new();
    ID.get_or_init(|| std::env::var(PANIC_ON_CONTAINER_ENV).ok())
        .as_deref()
}

/// Called at the start of every request.
pub fn before_request(request: &Request) {
    let Some(target) = panic_on_container() else {
        return;
    };
    let container = match request {
        Request::Add(a) => Some(&a.attachment.container_id),
        Request::Del(d) => Some(&d.attachment.container_id),
        _ => None,
    };
    if container.is_some_and(|c| c == target) {
        panic!("fault point {PANIC_ON_CONTAINER_ENV}: request for container {target}");
    }
}
