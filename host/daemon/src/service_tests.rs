//! The service in process: a store in memory that fails on demand, and the
//! default chain; no socket, no root. What the end-to-end tests can only
//! reach from outside: the commit order (store, then allocator), a failed
//! commit leaving nothing held, the bounded re-plan of an ADD that lost a
//! race, and a poisoned allocator lock failing requests rather than
//! answering from state that cannot be trusted.

use crate::config::{DaemonConfig, StartOnly};
use crate::limits::ADD_ATTEMPTS_MAX;
use crate::phases::PhaseClock;
use crate::service::{pools_of, ConfigOrigin, Service};
use berth_core::allocator::Allocator;
use berth_core::record::{AddressRecord, Mutation};
use berth_core::store::{Store, StoreError};
use berth_policy_runtime::{ChainHandle, Runtime};
use berth_proto::{AddRequest, Attachment, ErrorKind, PodRef, Request, Response};
use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Records by (pool, address), and the failures the next applies return.
#[derive(Default)]
struct Memory {
    records: Mutex<BTreeMap<(String, IpAddr), AddressRecord>>,
    failures: Mutex<VecDeque<StoreError>>,
    always_conflict: Mutex<bool>,
    applies: Mutex<usize>,
}

impl Memory {
    /// The next apply returns `error` and stores nothing.
    fn fail_next(&self, error: StoreError) {
        self.failures.lock().expect("failures").push_back(error);
    }
}

struct FakeStore(Arc<Memory>);

impl Store for FakeStore {
    fn load(&self) -> Result<Vec<AddressRecord>, StoreError> {
        Ok(self
            .0
            .records
            .lock()
            .expect("records")
            .values()
            .cloned()
            .collect())
    }

    fn apply(&self, mutations: &[Mutation]) -> Result<(), StoreError> {
        *self.0.applies.lock().expect("applies") += 1;
        if *self.0.always_conflict.lock().expect("flag") {
            return Err(conflict());
        }
        if let Some(error) = self.0.failures.lock().expect("failures").pop_front() {
            return Err(error);
        }
        let mut records = self.0.records.lock().expect("records");
        for m in mutations {
            match m {
                Mutation::Put(r) => {
                    records.insert((r.pool.clone(), r.address), r.clone());
                }
                Mutation::Remove { pool, address } => {
                    records.remove(&(pool.clone(), *address));
                }
            }
        }
        Ok(())
    }
}

fn conflict() -> StoreError {
    StoreError::Conflict {
        message: "another node took it".into(),
    }
}

fn service(memory: &Arc<Memory>) -> Service {
    let config = DaemonConfig::parse(
        r#"{ "pools": [{ "name": "p", "subnet": "10.66.0.0/24",
             "ips": ["10.66.0.10-10.66.0.19"], "default": true }] }"#,
    )
    .expect("config");
    let runtime = Runtime::new(crate::policy_limits::runtime_limits(&config.limits)).expect("rt");
    let chain = runtime.load_chain(&config.policies).expect("chain");
    let allocator = Allocator::new(pools_of(&config).expect("pools")).expect("allocator");
    Service::new(
        allocator,
        Box::new(FakeStore(memory.clone())),
        runtime,
        ChainHandle::new(chain),
        ConfigOrigin {
            path: "/nonexistent/berthd.json".into(),
            start_only: StartOnly::of(&config),
        },
        "node-a".into(),
        None,
    )
}

fn add(service: &Service, container: &str) -> Response {
    let request = Request::Add(AddRequest {
        attachment: Attachment {
            container_id: container.into(),
            ifname: "eth0".into(),
        },
        network: "net".into(),
        pod: PodRef {
            namespace: "default".into(),
            name: format!("pod-{container}"),
            uid: format!("uid-{container}"),
        },
        pools: Vec::new(),
        requested_ips: Vec::new(),
        clean_gateway: None,
        labels: Vec::new(),
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    service.handle(request, deadline, &mut PhaseClock::start(Instant::now()))
}

/// What the allocator holds, as (pool, address).
fn held(service: &Service) -> Vec<(String, IpAddr)> {
    let allocator = service.lock().expect("lock");
    let mut out: Vec<_> = allocator
        .records()
        .map(|r| (r.pool.clone(), r.address))
        .collect();
    out.sort();
    out
}

fn stored(memory: &Memory) -> Vec<(String, IpAddr)> {
    memory
        .records
        .lock()
        .expect("records")
        .keys()
        .cloned()
        .collect()
}

#[test]
fn a_failed_commit_holds_nothing_and_the_next_add_is_stored_before_it_is_held() {
    let memory = Arc::new(Memory::default());
    let service = service(&memory);
    memory.fail_next(StoreError::Backend {
        operation: "write",
        message: "disk full".into(),
    });
    let failed = add(&service, "c1");
    assert!(matches!(failed, Response::Error(_)), "{failed:?}");
    assert!(
        held(&service).is_empty(),
        "a failed commit must hold nothing"
    );
    assert!(stored(&memory).is_empty());

    let added = add(&service, "c1");
    assert!(matches!(added, Response::Added(_)), "{added:?}");
    assert_eq!(held(&service).len(), 1);
    assert_eq!(held(&service), stored(&memory), "allocator and store agree");
}

#[test]
fn an_add_that_lost_a_race_is_planned_again_and_succeeds() {
    let memory = Arc::new(Memory::default());
    let service = service(&memory);
    memory.fail_next(conflict());
    let added = add(&service, "c1");
    assert!(matches!(added, Response::Added(_)), "{added:?}");
    assert_eq!(*memory.applies.lock().expect("applies"), 2, "one re-plan");
    assert_eq!(held(&service), stored(&memory));
}

#[test]
fn an_add_that_keeps_losing_gives_up_after_the_bounded_attempts() {
    let memory = Arc::new(Memory::default());
    let service = service(&memory);
    *memory.always_conflict.lock().expect("flag") = true;
    match add(&service, "c1") {
        Response::Error(e) => assert_eq!(e.kind, ErrorKind::TryAgainLater, "{e:?}"),
        other => panic!("expected try-again, got {other:?}"),
    }
    assert_eq!(
        *memory.applies.lock().expect("applies"),
        ADD_ATTEMPTS_MAX as usize
    );
    assert!(held(&service).is_empty());
}

#[test]
fn a_poisoned_allocator_fails_requests_and_health() {
    let memory = Arc::new(Memory::default());
    let service = service(&memory);
    assert!(matches!(add(&service, "c1"), Response::Added(_)));
    // An invariant assertion firing mid-apply poisons the lock.
    let poisoned = std::thread::scope(|s| {
        s.spawn(|| {
            let _guard = service.allocator.lock();
            panic!("invariant broken mid-apply (test)");
        })
        .join()
    });
    assert!(poisoned.is_err());
    match add(&service, "c2") {
        Response::Error(e) => assert_eq!(e.kind, ErrorKind::Internal, "{e:?}"),
        other => panic!("expected an internal error, got {other:?}"),
    }
    assert!(service.health().is_err());
    assert_eq!(stored(&memory).len(), 1, "nothing written after poisoning");
}
