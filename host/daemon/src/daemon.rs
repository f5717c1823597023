//! `berthd serve`: wires config, store, allocator, policy runtime, socket,
//! metrics, reload and expiry together, and shuts down cleanly.

use crate::config::DaemonConfig;
use crate::server::SocketServer;
use crate::service::{pools_of, Service};
use anyhow::Context;
use berth_core::allocator::Allocator;
use berth_core::store::Store;
use berth_policy_runtime::{ChainHandle, Runtime};
use berth_store_embedded::EmbeddedStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

/// File name of the embedded database inside `dataDir`.
pub const STORE_FILE: &str = "berth.redb";

pub fn check_config(path: &Path) -> anyhow::Result<()> {
    let config = DaemonConfig::load(path)?;
    let pools = pools_of(&config)?;
    // The pool set as a whole (names, overlaps), as `serve` checks it.
    Allocator::new(pools.clone()).context("validating pools")?;
    let runtime = Runtime::new(crate::policy_limits::runtime_limits(&config.limits))?;
    let chain = runtime.load_chain(&config.policies)?;
    let names: Vec<&str> = chain.policies().iter().map(|p| p.name()).collect();
    println!(
        "config ok: {} pool(s); policy chain: [{}]",
        pools.len(),
        names.join(", ")
    );
    Ok(())
}

/// A panic means an invariant assertion fired: the in-memory state can no
/// longer be trusted, only the store can. Dying lets the process manager
/// (the kubelet, systemd) restart berthd from the store at once, where a
/// survivor would answer "restart berthd" to every request while looking
/// healthy.
fn abort_on_panic() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!(panic = %info, "internal error; aborting so berthd restarts from its store");
        default_hook(info);
        std::process::abort();
    }));
}

/// Every idle connection costs a descriptor, and systemd's default soft
/// limit (1024) is easy to exhaust from the metrics port; the hard limit is
/// what the operator allows.
fn raise_open_file_limit() {
    match crate::sys::raise_nofile_to_hard_limit() {
        Ok((from, to)) if from != to => {
            tracing::info!(from, to, "raised the open-file limit");
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "could not raise the open-file limit"),
    }
}

fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub fn serve(config_path: &Path, log_format: &str) -> anyhow::Result<()> {
    init_logs(log_format);
    abort_on_panic();
    raise_open_file_limit();
    let config = DaemonConfig::load(config_path)?;
    let node = config.node();
    // Everything the config says is checked before any file is created.
    Allocator::new(pools_of(&config)?).context("validating pools")?;
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(crate::limits::ASYNC_WORKER_THREADS)
        .enable_all()
        .build()?;
    // Compiled policies are kept by digest: a restart loads them in
    // milliseconds instead of compiling them again.
    let runtime = Runtime::with_artefact_cache(
        crate::policy_limits::runtime_limits(&config.limits),
        config.policy_cache_dir(),
    )
    .context("starting the policy runtime")?;
    crate::precompile::in_child(&runtime, &config, config_path);
    let chain = runtime
        .load_chain(&config.policies)
        .context("loading the policy chain")?;
    let names: Vec<String> = chain
        .policies()
        .iter()
        .map(|p| p.name().to_owned())
        .collect();

    let (store, pool_specs, reserved, directory, kube): (Box<dyn Store>, _, _, _, _) = match &config
        .kubernetes
    {
        None => {
            let path = config.data_dir.join(STORE_FILE);
            let store = EmbeddedStore::open(&path, &node).context("opening the embedded store")?;
            tracing::info!(store = %path.display(), opened = ?store.opened(), "single-host mode: embedded store");
            let reserved = config.reserved_set().context("reserved")?;
            (Box::new(store), pools_of(&config)?, reserved, None, None)
        }
        Some(k) => {
            let parts = crate::kube::mode::start(k, &node, tokio.handle())?;
            let pools = crate::cluster::usable_pools(&parts.pools);
            tracing::info!(node = %node, pools = pools.len(), "Kubernetes mode: state in the API server");
            (
                Box::new(parts.store),
                pools,
                parts.reserved,
                Some(parts.directory),
                Some((parts.client, k.clone())),
            )
        }
    };
    let pools = pool_specs;
    // The store may block_on the runtime: read it from a blocking thread.
    let records = tokio
        .block_on(async {
            tokio::task::spawn_blocking(move || store.load().map(|r| (store, r))).await
        })?
        .context("reading the store")?;
    let (store, records) = records;
    let record_count = records.len();
    let mut allocator = Allocator::with_reserved(pools, reserved).context("validating pools")?;
    let restored = allocator.restore(records).context(
        "restoring allocations from the store (no crash leaves such records: \
         inspect the records named, then release or delete the wrong ones by hand)",
    )?;
    store.loaded();
    // Scattered search starts only pay where nodes share a pool. A single
    // host hands addresses out in order from a cursor, as host-local does:
    // held addresses stay in a few runs, so the free index stays a few
    // entries instead of one per allocation (ARCHITECTURE.md, where it
    // describes `Allocator::spread_cursors`).
    if kube.is_some() {
        allocator.spread_cursors(crate::service::node_seed(&node));
    }
    // The load held every record unpacked at once; give what it freed back.
    crate::sys::return_freed_memory();
    if !restored.orphaned.is_empty() {
        tracing::warn!(orphaned = ?restored.orphaned, "records of pools no longer configured are kept");
    }
    for s in &restored.superseded {
        tracing::warn!(record = %s.record, node = %s.node, kept = %s.kept, reason = %s.reason,
            "a partial store write left two records in one slot; keeping one, releasing the other");
    }
    let service = Arc::new(Service::new(
        allocator,
        store,
        runtime,
        ChainHandle::new(chain),
        crate::service::ConfigOrigin {
            path: config_path.to_owned(),
            start_only: crate::config::StartOnly::of(&config),
        },
        node.clone(),
        directory,
    ));
    tracing::info!(records = record_count, policies = ?names, "state restored");
    if !restored.superseded.is_empty() {
        let service = service.clone();
        // The Kubernetes store may block_on the runtime: write from a
        // blocking thread. A failure leaves the records held and retried
        // at the next refresh; it must not stop the node from starting.
        let released = tokio.block_on(async {
            tokio::task::spawn_blocking(move || {
                let mut allocator = service.lock()?;
                service.release_superseded(&mut allocator)
            })
            .await
        })?;
        if let Err(error) = released {
            tracing::warn!(message = %error.message, "releasing superseded records failed; retrying at the next refresh");
        }
    }
    tokio.block_on(run(config_path, config, service, kube, node))
}

async fn run(
    config_path: &Path,
    config: DaemonConfig,
    service: Arc<Service>,
    cluster: Option<(kube::Client, crate::kube::KubernetesConfig)>,
    node: String,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let server = SocketServer::bind(&config.socket_path)
        .with_context(|| format!("binding {}", config.socket_path.display()))?;
    tracing::info!(socket = %config.socket_path.display(), "listening");
    let timeout = Duration::from_millis(config.limits.request_timeout_ms);
    let serving = tokio::spawn(server.run(
        service.clone(),
        config.limits.requests_in_flight_max,
        timeout,
        stop_rx.clone(),
    ));
    if let Some(address) = config.metrics_address {
        let (service, stop) = (service.clone(), stop_rx.clone());
        tokio::spawn(async move {
            if let Err(error) = crate::http::serve_metrics(address, service, stop).await {
                tracing::error!(%error, "metrics endpoint stopped");
            }
        });
    }
    tokio::spawn(expire_periodically(
        service.clone(),
        config.limits.expiry_interval_secs,
        stop_rx.clone(),
    ));
    if let Some((client, k)) = cluster {
        use crate::kube::mode;
        tokio::spawn(mode::sync_pools(
            service.clone(),
            client.clone(),
            node.clone(),
            k.pool_sync_interval_secs,
            stop_rx.clone(),
        ));
        tokio::spawn(mode::collect_garbage(
            service.clone(),
            client,
            node,
            k.gc_interval_secs,
            crate::kube::gc::GcTimes {
                grace_secs: k.gc_grace_secs,
                terminating_grace_secs: k.gc_terminating_grace_secs,
            },
            stop_rx.clone(),
        ));
    }
    tokio::spawn(reload_on_change(
        service.clone(),
        config_path.to_owned(),
        config.limits.config_poll_interval_secs,
        stop_rx.clone(),
    ));

    let mut hangup = signal(SignalKind::hangup())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    loop {
        tokio::select! {
            _ = hangup.recv() => {
                reload(service.clone()).await;
            }
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    tracing::info!("shutting down: draining requests in flight");
    // Receivers only go away once every task stopped; nothing to handle.
    let _ = stop_tx.send(true);
    serving.await?;
    tracing::info!("stopped");
    Ok(())
}

async fn expire_periodically(
    service: Arc<Service>,
    every_secs: u64,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(every_secs));
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {
                let service = service.clone();
                match tokio::task::spawn_blocking(move || service.expire()).await {
                    Ok(Ok(0)) => {}
                    Ok(Ok(n)) => tracing::info!(released = n, "retained bindings expired"),
                    Ok(Err(error)) => tracing::error!(message = %error.message, "expiry failed"),
                    Err(error) => tracing::error!(%error, "expiry task failed"),
                }
            }
        }
    }
}

async fn reload(service: Arc<Service>) -> bool {
    match tokio::task::spawn_blocking(move || service.reload()).await {
        Ok(Ok(_)) => true,
        Ok(Err(error)) => {
            tracing::error!(message = %error.message, "reload failed");
            false
        }
        Err(error) => {
            tracing::error!(%error, "reload task failed");
            false
        }
    }
}

/// Reloads when the config file's content changes. Polling the content
/// (not inotify on the path) follows the kubelet's symlink swap of a
/// mounted ConfigMap as well as an editor's rename-over.
async fn reload_on_change(
    service: Arc<Service>,
    path: PathBuf,
    every_secs: u64,
    mut stop: watch::Receiver<bool>,
) {
    let mut seen = std::fs::read(&path).ok();
    let mut tick = tokio::time::interval(Duration::from_secs(every_secs));
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {
                let now = tokio::fs::read(&path).await.ok();
                if now.is_some() && now != seen {
                    tracing::info!(path = %path.display(), "config file changed; reloading");
                    // A refused reload is retried at the next poll: the
                    // kubelet may write the config before a module it names.
                    if reload(service.clone()).await {
                        seen = now;
                    }
                }
            }
        }
    }
}
