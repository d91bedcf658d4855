//! Continuous discovery: every known server is probed every `InstancePollSeconds` over a
//! connection kept open, with at most `DiscoveryMaxConcurrency` probes at once.
//!
//! `discover` probes one server and crawls its whole topology at once: every probe result names
//! the server's source and replicas, and each neighbour not yet known gets its own prober, whose
//! first probe starts immediately. So a whole cluster is found in the time of a few probes, not a
//! poll cycle per level. A server that stops answering is kept, marked, and re-probed with
//! backoff; `forget` removes it (and keeps it from being rediscovered for 3 poll intervals, as
//! orchestrator does).
//!
//! # Layout
//! - `state`:  observations, learned names, forgotten servers, the cached derived view.
//! - `prober`: one task per server (`Prober` handle, `ProberTask` loop).
//! - here:     the `Discovery` handle, settings, crawling, persistence flushing.

mod prober;
pub mod state;

use crate::mysql::probe::{ProbeResult, ProbeSettings};
use crate::mysql::ConnectSpec;
use crate::store::Store;
use crate::topology::{DeriveSettings, Observed};
use app::model::{Instance, InstanceKey};
use chrono::{DateTime, Utc};
use prober::{ProbeOutcome, Prober, ProberCommand, ProberTask};
use regex::Regex;
use state::State;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, watch, Semaphore};
use tokio_util::sync::CancellationToken;

/// How often observations are written behind to the store.
const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// Why a discovery request failed.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("{0}")]
    Unreachable(String),
    #[error("{0} is ignored by the discovery filters")]
    Filtered(InstanceKey),
    #[error("discovery is shutting down")]
    ShuttingDown,
}

/// Everything discovery needs from the configuration.
#[derive(Clone, Debug)]
pub struct DiscoverySettings {
    pub poll_interval: Duration,
    /// `InstancePingMilliseconds`: liveness pings between polls; zero: none.
    pub ping_interval: Duration,
    pub max_concurrency: usize,
    pub user: String,
    pub password: crate::config::Secret,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub probe: ProbeSettings,
    pub derive: DeriveSettings,
    /// Servers never discovered (`DiscoveryIgnoreHostnameFilters`).
    pub ignore_hostnames: Vec<Regex>,
    /// Replicas not followed downward (`DiscoveryIgnoreReplicaHostnameFilters`).
    pub ignore_replica_hostnames: Vec<Regex>,
    /// Sources not followed upward (`DiscoveryIgnoreMasterHostnameFilters`).
    pub ignore_master_hostnames: Vec<Regex>,
}

impl DiscoverySettings {
    pub fn connect_spec(&self, key: &InstanceKey) -> ConnectSpec {
        ConnectSpec {
            host: key.hostname.clone(),
            port: key.port,
            user: self.user.clone(),
            password: self.password.clone(),
            connect_timeout: self.connect_timeout,
            read_timeout: self.read_timeout,
        }
    }

    fn ignored(list: &[Regex], key: &InstanceKey) -> bool {
        let name = key.to_string();
        list.iter().any(|re| re.is_match(&key.hostname) || re.is_match(&name))
    }
}

/// Counters for `/api/discovery-metrics` and the discovery benchmark.
#[derive(Default)]
struct Metrics {
    probes: AtomicU64,
    failures: AtomicU64,
    latency_nanos: AtomicU64,
    statements: AtomicU64,
    round_trips: AtomicU64,
    /// Connections opened (each also detects the dialect), and the time they took; included in
    /// the latency of the probe that needed them.
    connects: AtomicU64,
    connect_nanos: AtomicU64,
}

/// A summary of discovery's work since start.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct MetricsSnapshot {
    #[serde(rename = "Probes")]
    pub probes: u64,
    #[serde(rename = "FailedProbes")]
    pub failures: u64,
    #[serde(rename = "MeanProbeLatencyMillis")]
    pub mean_latency_ms: f64,
    #[serde(rename = "StatementsPerProbe")]
    pub statements_per_probe: f64,
    #[serde(rename = "RoundTripsPerProbe")]
    pub round_trips_per_probe: f64,
    #[serde(rename = "KnownInstances")]
    pub known_instances: usize,
    /// Connections opened to managed servers (a probe reuses its server's connection).
    #[serde(rename = "Connects")]
    pub connects: u64,
    #[serde(rename = "MeanConnectMillis")]
    pub mean_connect_ms: f64,
}

struct Inner {
    settings: DiscoverySettings,
    state: RwLock<State>,
    probers: Mutex<HashMap<InstanceKey, Prober>>,
    concurrency: Arc<Semaphore>,
    store: Store,
    /// Held while observations are written or deleted, so that a flush that took an observation
    /// just before `forget` cannot write it back after `forget` deleted it.
    store_writes: tokio::sync::Mutex<()>,
    changed: watch::Sender<u64>,
    cancel: CancellationToken,
    metrics: Metrics,
}

/// Handle to continuous discovery; cheap to clone.
#[derive(Clone)]
pub struct Discovery {
    inner: Arc<Inner>,
}

impl Discovery {
    /// Starts discovery: loads the known servers from the store and starts probing them.
    pub async fn start(settings: DiscoverySettings, store: Store, cancel: CancellationToken) -> Result<Discovery, crate::store::StoreError> {
        let known = store.load_instances().await?;
        let aliases = store.cluster_aliases().await?;
        let mut state = State::default();
        state.declarations.cluster_aliases = aliases;
        for obs in known {
            state.observed.insert(obs.instance.key.clone(), obs);
        }
        let keys: Vec<InstanceKey> = state.observed.keys().cloned().collect();
        let (changed, _) = watch::channel(0);
        let discovery = Discovery {
            inner: Arc::new(Inner {
                concurrency: Arc::new(Semaphore::new(settings.max_concurrency.max(1))),
                settings,
                state: RwLock::new(state),
                probers: Mutex::new(HashMap::new()),
                store,
                store_writes: tokio::sync::Mutex::new(()),
                changed,
                cancel,
                metrics: Metrics::default(),
            }),
        };
        for key in keys {
            discovery.ensure_prober(&key, None);
        }
        tokio::spawn(discovery.clone().flush_loop());
        Ok(discovery)
    }

    pub fn settings(&self) -> &DiscoverySettings {
        &self.inner.settings
    }

    fn concurrency(&self) -> Arc<Semaphore> {
        self.inner.concurrency.clone()
    }

    /// Whether `key`'s source stopped answering (its last check failed): then what `key` says
    /// about it decides a failover, and `key` is polled faster.
    pub fn source_is_failing(&self, key: &InstanceKey) -> bool {
        let state = self.inner.state.read().unwrap_or_else(|p| p.into_inner());
        let Some(me) = state.observed.get(key) else { return false };
        let source = &me.instance.master_key;
        !source.hostname.is_empty() && state.observed.get(source).is_some_and(|s| !s.instance.is_last_check_valid)
    }

    fn state(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.inner.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Probes `key` now and crawls its topology; answers with the probed instance once its own
    /// probe is done (neighbours are being probed meanwhile).
    pub async fn discover(&self, key: &InstanceKey) -> Result<Instance, DiscoveryError> {
        if DiscoverySettings::ignored(&self.inner.settings.ignore_hostnames, key) {
            return Err(DiscoveryError::Filtered(key.clone()));
        }
        let was_known = self.state().is_known(key);
        self.state().forgotten.remove(key);
        let (tx, rx) = oneshot::channel();
        self.ensure_prober(key, Some(tx));
        let outcome: ProbeOutcome = rx.await.map_err(|_| DiscoveryError::ShuttingDown)?;
        match outcome {
            Ok(canonical) => self.instance(&canonical).ok_or_else(|| DiscoveryError::Unreachable(format!("{key} was forgotten meanwhile"))),
            Err(reason) => {
                if !was_known && !self.is_referenced(key) {
                    // A server nobody knew and that does not answer is not kept, not even in the
                    // store (a flush may have written its placeholder meanwhile).
                    if let Err(e) = self.forget_for(std::slice::from_ref(key), Duration::ZERO).await {
                        tracing::error!(error = %e, "removing an unreachable server from the store failed");
                    }
                }
                Err(DiscoveryError::Unreachable(reason))
            }
        }
    }

    /// Starts discovering `key` without waiting.
    pub fn discover_async(&self, key: &InstanceKey) -> Result<(), DiscoveryError> {
        if DiscoverySettings::ignored(&self.inner.settings.ignore_hostnames, key) {
            return Err(DiscoveryError::Filtered(key.clone()));
        }
        self.state().forgotten.remove(key);
        self.ensure_prober(key, None);
        Ok(())
    }

    /// Probes a known server again now and waits for the result.
    pub async fn refresh(&self, key: &InstanceKey) -> Result<Instance, DiscoveryError> {
        let key = self.state().resolve(key);
        let tx = {
            let probers = self.inner.probers.lock().unwrap_or_else(|p| p.into_inner());
            probers.get(&key).map(|p| p.commands.clone())
        };
        let Some(tx) = tx else { return self.discover(&key).await };
        let (reply, rx) = oneshot::channel();
        tx.send(ProberCommand::ProbeNow(Some(reply))).await.map_err(|_| DiscoveryError::ShuttingDown)?;
        match rx.await.map_err(|_| DiscoveryError::ShuttingDown)? {
            Ok(canonical) => self.instance(&canonical).ok_or(DiscoveryError::ShuttingDown),
            Err(reason) => Err(DiscoveryError::Unreachable(reason)),
        }
    }

    /// Forgets servers: they stop being probed and leave the store.
    pub async fn forget(&self, keys: &[InstanceKey]) -> Result<(), crate::store::StoreError> {
        self.forget_for(keys, self.inner.settings.poll_interval * 3).await
    }

    /// Forgets servers, keeping them from being rediscovered by the crawl for `grace`.
    async fn forget_for(&self, keys: &[InstanceKey], grace: Duration) -> Result<(), crate::store::StoreError> {
        let keys: Vec<InstanceKey> = {
            let state = self.state();
            keys.iter().map(|k| state.resolve(k)).collect()
        };
        let _writes = self.inner.store_writes.lock().await;
        for key in &keys {
            self.drop_prober(key);
        }
        self.state().forget(&keys, grace);
        self.inner.store.delete_instances(&keys).await?;
        self.notify_changed();
        Ok(())
    }

    /// The derived view of every known server.
    pub fn instances(&self) -> Arc<BTreeMap<InstanceKey, Instance>> {
        self.state().view(&self.inner.settings.derive)
    }

    /// One server by any name it is known by.
    pub fn instance(&self, key: &InstanceKey) -> Option<Instance> {
        let key = self.state().resolve(key);
        self.instances().get(&key).cloned()
    }

    /// The canonical key for a name, if that server is known.
    pub fn resolve_known(&self, key: &InstanceKey) -> Option<InstanceKey> {
        let state = self.state();
        let k = state.resolve(key);
        state.observed.contains_key(&k).then_some(k)
    }

    /// Shows a cluster alias the replicated state now holds (`Command::SetClusterAlias`).
    pub fn show_cluster_alias(&self, cluster: &str, alias: &str) {
        {
            let mut state = self.state();
            if alias.is_empty() {
                state.declarations.cluster_aliases.remove(cluster);
            } else {
                state.declarations.cluster_aliases.insert(cluster.to_string(), alias.to_string());
            }
            state.version += 1;
        }
        self.notify_changed();
    }

    /// Shows a new set of operator intents (downtime, promotion rules) in the view. Called by
    /// `Intents` after each write; the store already holds them.
    pub fn set_intents(&self, intents: Arc<crate::intents::model::IntentSet>) {
        {
            let mut state = self.state();
            state.declarations.intents = intents;
            state.version += 1;
        }
        self.notify_changed();
    }

    /// `key`'s maintenance window, if one is active now (topology operations refuse it).
    pub fn maintenance_of(&self, key: &InstanceKey) -> Option<crate::intents::model::Window> {
        let state = self.state();
        let key = state.resolve(key);
        state.declarations.intents.maintenance_of(&key, Utc::now()).cloned()
    }

    /// Notified (with a new version number) whenever anything discovery knows changes.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.changed.subscribe()
    }

    pub fn metrics(&self) -> MetricsSnapshot {
        let m = &self.inner.metrics;
        let probes = m.probes.load(Ordering::Relaxed);
        let ok = probes.saturating_sub(m.failures.load(Ordering::Relaxed)).max(1) as f64;
        let connects = m.connects.load(Ordering::Relaxed);
        MetricsSnapshot {
            probes,
            failures: m.failures.load(Ordering::Relaxed),
            mean_latency_ms: m.latency_nanos.load(Ordering::Relaxed) as f64 / probes.max(1) as f64 / 1e6,
            statements_per_probe: m.statements.load(Ordering::Relaxed) as f64 / ok,
            round_trips_per_probe: m.round_trips.load(Ordering::Relaxed) as f64 / ok,
            known_instances: self.state().observed.len(),
            connects,
            mean_connect_ms: m.connect_nanos.load(Ordering::Relaxed) as f64 / connects.max(1) as f64 / 1e6,
        }
    }

    /// Writes pending observations now (used at shutdown and by tests).
    pub async fn flush(&self) -> Result<(), crate::store::StoreError> {
        let _writes = self.inner.store_writes.lock().await;
        let (save, delete) = self.state().take_dirty();
        if !save.is_empty() {
            self.inner.store.save_instances(&save).await?;
        }
        if !delete.is_empty() {
            self.inner.store.delete_instances(&delete).await?;
        }
        Ok(())
    }

    fn is_referenced(&self, key: &InstanceKey) -> bool {
        self.state().observed.values().any(|o| o.instance.master_key == *key || o.reported_replicas.contains(key))
    }

    fn notify_changed(&self) {
        let version = self.state().version;
        self.inner.changed.send_replace(version);
    }

    /// Makes sure `key` has a prober; with `waiter`, asks for a probe now and its outcome.
    fn ensure_prober(&self, key: &InstanceKey, waiter: Option<oneshot::Sender<ProbeOutcome>>) {
        let key = self.state().resolve(key);
        let mut probers = self.inner.probers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = probers.get(&key) {
            if let Some(w) = waiter {
                if let Err(mpsc::error::TrySendError::Full(ProberCommand::ProbeNow(Some(w))) | mpsc::error::TrySendError::Closed(ProberCommand::ProbeNow(Some(w)))) =
                    p.commands.try_send(ProberCommand::ProbeNow(Some(w)))
                {
                    // The prober is busy with a backlog; a concurrent caller can wait on it.
                    let tx = p.commands.clone();
                    tokio::spawn(async move {
                        let _ = tx.send(ProberCommand::ProbeNow(Some(w))).await;
                    });
                }
            }
            return;
        }
        self.state().add_placeholder(&key);
        let (tx, rx) = mpsc::channel(16);
        let cancel = self.inner.cancel.child_token();
        probers.insert(key.clone(), Prober { commands: tx, cancel: cancel.clone() });
        let task = ProberTask::new(key, self.clone(), rx, cancel);
        tokio::spawn(task.run(waiter));
    }

    fn drop_prober(&self, key: &InstanceKey) {
        let removed = self.inner.probers.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
        if let Some(p) = removed {
            p.cancel.cancel();
        }
    }

    /// Called by a prober: records the observation and crawls to its neighbours.
    fn on_probe_success(&self, target: &InstanceKey, probe: ProbeResult, started: DateTime<Utc>, latency: Duration) {
        let m = &self.inner.metrics;
        m.probes.fetch_add(1, Ordering::Relaxed);
        m.latency_nanos.fetch_add(latency.as_nanos() as u64, Ordering::Relaxed);
        m.statements.fetch_add(probe.statements as u64, Ordering::Relaxed);
        m.round_trips.fetch_add(probe.round_trips as u64, Ordering::Relaxed);

        let canonical = probe.instance.key.clone();
        if canonical != *target {
            // Reached under another name: one prober per server, under its canonical name.
            let mut probers = self.inner.probers.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(p) = probers.remove(target) {
                if probers.contains_key(&canonical) {
                    p.cancel.cancel();
                } else {
                    probers.insert(canonical.clone(), p);
                }
            }
        }
        let source = probe.instance.master_key.clone();
        let replicas = probe.reported_replicas.clone();
        let io_reconnected = probe.instance.replication_io_thread_running
            && self.state().observed.get(&canonical).is_some_and(|o| !o.instance.replication_io_thread_running);
        let obs = Observed {
            instance: probe.instance,
            reported_replicas: probe.reported_replicas,
            detected_cluster_alias: probe.detected_cluster_alias,
            detected_promotion_rule: probe.detected_promotion_rule,
        };
        if !self.state().record_success(target, obs, started, latency) {
            return; // forgotten while the probe ran
        }
        self.notify_changed();
        if io_reconnected {
            self.source_reachable_again(&source);
        }

        let settings = &self.inner.settings;
        let mut neighbours = Vec::new();
        if !source.is_empty() && !DiscoverySettings::ignored(&settings.ignore_master_hostnames, &source) {
            neighbours.push(source);
        }
        neighbours.extend(replicas.into_iter().filter(|r| !DiscoverySettings::ignored(&settings.ignore_replica_hostnames, r)));
        let now = Instant::now();
        for n in neighbours {
            if DiscoverySettings::ignored(&settings.ignore_hostnames, &n) {
                continue;
            }
            let skip = {
                let mut state = self.state();
                state.is_known(&n) || state.is_forgotten(&n, now)
            };
            if !skip {
                self.ensure_prober(&n, None);
            }
        }
    }

    /// A replica's IO thread just reconnected to `source`: if discovery considers the source
    /// down, probe it now rather than at the end of its backoff, so a restarted primary shows
    /// valid again within a poll interval of its replicas noticing.
    fn source_reachable_again(&self, source: &InstanceKey) {
        let source = {
            let state = self.state();
            let key = state.resolve(source);
            match state.observed.get(&key) {
                Some(o) if !o.instance.is_last_check_valid => key,
                _ => return,
            }
        };
        let probers = self.inner.probers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = probers.get(&source) {
            // A full queue already holds a request to probe.
            let _ = p.commands.try_send(ProberCommand::ProbeNow(None));
        }
    }

    /// Called by a prober that opened a connection.
    fn on_connected(&self, took: Duration) {
        self.inner.metrics.connects.fetch_add(1, Ordering::Relaxed);
        self.inner.metrics.connect_nanos.fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
    }

    fn on_probe_failure(&self, target: &InstanceKey, started: DateTime<Utc>, error: &str) {
        self.inner.metrics.probes.fetch_add(1, Ordering::Relaxed);
        self.inner.metrics.failures.fetch_add(1, Ordering::Relaxed);
        let (recorded, replicas) = {
            let mut state = self.state();
            let key = state.resolve(target);
            let was_valid = state.observed.get(&key).is_some_and(|o| o.instance.is_last_check_valid);
            let recorded = state.observed.contains_key(&key) && state.record_failure(target, started, error);
            // A server that just stopped answering: what its replicas say decides whether it
            // is dead, so they are asked now rather than at their next poll.
            let replicas: Vec<InstanceKey> = if recorded && was_valid {
                state.observed.values().filter(|o| o.instance.master_key == key).map(|o| o.instance.key.clone()).collect()
            } else {
                Vec::new()
            };
            (recorded, replicas)
        };
        if recorded {
            self.notify_changed();
        }
        if !replicas.is_empty() {
            let probers = self.inner.probers.lock().unwrap_or_else(|p| p.into_inner());
            for r in &replicas {
                if let Some(p) = probers.get(r) {
                    let _ = p.commands.try_send(ProberCommand::ProbeNow(None));
                }
            }
        }
    }

    async fn flush_loop(self) {
        loop {
            tokio::select! {
                _ = self.inner.cancel.cancelled() => break,
                _ = tokio::time::sleep(FLUSH_INTERVAL) => {}
            }
            if let Err(e) = self.flush().await {
                tracing::error!(error = %e, "writing observations to the store failed");
            }
        }
        if let Err(e) = self.flush().await {
            tracing::error!(error = %e, "final write of observations to the store failed");
        }
    }
}
