//! The server handle: start on 127.0.0.1:<random port> on a runtime thread of
//! its own (so it serves `#[tokio::test]`s of any flavour and sync tests
//! alike), hand out kube `Config`/`Client`, expose the test knobs, and stop on
//! drop.

use crate::counters::{Fault, Knobs, RequestCounts};
use crate::resource::{Gvr, Registry, ResourceDef};
use crate::store::Store;
use crate::{router, Shared};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

/// Why the server or a client could not be made.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Binding the socket or building the runtime failed.
    #[error("starting the API server stand-in: {0}")]
    Io(#[from] std::io::Error),
    /// The server URL did not parse (never expected).
    #[error("bad server URL: {0}")]
    Url(#[from] hyper::http::uri::InvalidUri),
    /// kube-rs refused the configuration.
    #[error("building the kube client: {0}")]
    Client(#[from] kube::Error),
    /// [`ApiServer::client`] was called outside a Tokio runtime.
    #[error(
        "ApiServer::client must be called inside a Tokio runtime (or use ApiServer::block_on)"
    )]
    NoRuntime,
}

/// Options for [`ApiServer::builder`].
#[derive(Debug, Clone)]
pub struct ApiServerBuilder {
    event_log_capacity: usize,
    bookmark_interval: Duration,
    worker_threads: usize,
}

impl Default for ApiServerBuilder {
    fn default() -> Self {
        Self {
            event_log_capacity: 100_000,
            bookmark_interval: Duration::from_secs(5),
            worker_threads: 2,
        }
    }
}

impl ApiServerBuilder {
    /// How many events the watch log keeps (older resourceVersions get 410).
    pub fn event_log_capacity(mut self, n: usize) -> Self {
        self.event_log_capacity = n;
        self
    }

    /// How often watches with `allowWatchBookmarks` get a BOOKMARK.
    pub fn bookmark_interval(mut self, d: Duration) -> Self {
        self.bookmark_interval = d;
        self
    }

    /// Worker threads of the server's runtime.
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = n.max(1);
        self
    }

    /// Bind 127.0.0.1:0 and start serving.
    pub fn start(self) -> Result<ApiServer, StartError> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(self.worker_threads)
            .thread_name("kube-standin")
            .enable_all()
            .build()?;
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::new(self.event_log_capacity)),
            registry: RwLock::new(Registry::with_builtins()),
            changes: tokio::sync::watch::Sender::new(1),
            knobs: Knobs::default(),
            bookmark_interval: self.bookmark_interval,
        });
        let handle = rt.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("kube-standin-accept".into())
            .spawn(move || {
                rt.block_on(serve(s, listener, stopped));
                rt.shutdown_timeout(Duration::from_secs(1));
            })?;
        Ok(ApiServer {
            shared,
            addr,
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

async fn serve(
    shared: Arc<Shared>,
    listener: std::net::TcpListener,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let _ = stream.set_nodelay(true);
        let s = shared.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| router::handle(s.clone(), req));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

/// A running API server stand-in. Dropping it stops the server and ends
/// every open watch.
#[derive(Debug)]
pub struct ApiServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ApiServer {
    /// Start with default options.
    pub fn start() -> Result<Self, StartError> {
        ApiServerBuilder::default().start()
    }

    /// Options: event log size, bookmark interval, worker threads.
    pub fn builder() -> ApiServerBuilder {
        ApiServerBuilder::default()
    }

    /// The socket address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A kube `Config` for this server: plain HTTP, no auth, namespace `default`.
    pub fn config(&self) -> Result<kube::Config, StartError> {
        Ok(kube::Config::new(self.url().parse()?))
    }

    /// A ready `kube::Client`. Must be called inside a Tokio runtime (the
    /// client spawns its buffer task there); sync tests can use [`Self::block_on`].
    pub fn client(&self) -> Result<kube::Client, StartError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(StartError::NoRuntime);
        }
        Ok(kube::Client::try_from(self.config()?)?)
    }

    /// Run a future to completion on the server's own runtime, from a sync
    /// test (not from inside another runtime).
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.handle.block_on(f)
    }

    /// Serve another resource type (or redefine one).
    pub fn register(&self, def: ResourceDef) {
        if let Ok(mut r) = self.shared.registry.write() {
            r.insert(def);
        }
    }

    /// Serve a custom resource with a `/status` subresource, e.g.
    /// `("berth.io", "v1alpha1", "BerthPool", "berthpools", false)`.
    pub fn register_resource(
        &self,
        group: &str,
        version: &str,
        kind: &str,
        plural: &str,
        namespaced: bool,
    ) {
        self.register(ResourceDef::new(group, version, kind, plural, namespaced));
    }

    /// Serve Berth's kinds ([`ResourceDef::berth_kinds`]).
    pub fn register_berth_kinds(&self) {
        for def in ResourceDef::berth_kinds() {
            self.register(def);
        }
    }

    /// Delay every request by `d` before it is handled (zero turns it off).
    pub fn set_latency(&self, d: Duration) {
        self.shared.knobs.set_latency(d);
    }

    /// Fail the next `n` writes (create, update, patch, delete) on `resource`
    /// (a plural such as `pods`, `pods/status` for the subresource only, or
    /// `*` for any) with `fault`. Faulted requests are still counted.
    pub fn fail_next_writes(&self, resource: &str, n: usize, fault: Fault) {
        self.shared.knobs.add_fault(resource, n, fault);
    }

    /// Disarm every injected fault.
    pub fn clear_faults(&self) {
        self.shared.knobs.clear_faults();
    }

    /// Requests served so far, by verb and resource.
    pub fn counts(&self) -> RequestCounts {
        self.shared.knobs.counts()
    }

    /// Objects served so far by lists and initial watch events of
    /// `resource` (a plural): the bytes behind a request count.
    pub fn objects_read(&self, resource: &str) -> u64 {
        self.shared.knobs.objects_read(resource)
    }

    /// Hold every open watch's events (true) until released (false), as a
    /// lagging watch cache does; writes and reads go on. Events are
    /// delivered in order once released.
    pub fn pause_watches(&self, paused: bool) {
        self.shared.knobs.pause_watches(paused);
    }

    /// Zero the request counters (and the objects-read counts).
    pub fn reset_counts(&self) {
        self.shared.knobs.reset_counts();
    }

    /// The latest resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.shared
            .store
            .lock()
            .map(|s| s.resource_version())
            .unwrap_or(0)
    }

    /// Forget the event log: watches from any older resourceVersion get 410.
    pub fn compact(&self) {
        if let Ok(mut s) = self.shared.store.lock() {
            s.compact();
        }
    }

    /// Every stored object of a type, all namespaces, in key order.
    pub fn objects(&self, gvr: &Gvr) -> Vec<Value> {
        let Some(def) = self
            .shared
            .registry
            .read()
            .ok()
            .and_then(|r| r.get(gvr).cloned())
        else {
            return Vec::new();
        };
        let sel = crate::selectors::Selectors::default();
        self.shared
            .store
            .lock()
            .map(|s| s.list(&def, None, &sel).0)
            .unwrap_or_default()
    }

    /// One stored object (`namespace` "" for cluster-scoped types).
    pub fn object(&self, gvr: &Gvr, namespace: &str, name: &str) -> Option<Value> {
        let def = self.shared.registry.read().ok()?.get(gvr).cloned()?;
        let t = crate::store::Target {
            def: &def,
            namespace,
        };
        self.shared.store.lock().ok()?.get(t, name).ok()
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
