//! One task per known server: keeps a connection open, probes on schedule or on demand, backs
//! off while the server does not answer, and reports every result to `Discovery`.

use super::Discovery;
use crate::mysql::probe::ProbeConn;
use crate::mysql::{MySqlError, TextConn};
use app::model::InstanceKey;
use chrono::Utc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Longest pause between attempts on a server that keeps failing.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A liveness ping that takes longer than this counts as failed: the server is probed at once
/// (a full probe, with the usual timeouts, decides whether it is down).
const PING_TIMEOUT: Duration = Duration::from_secs(1);

/// Poll interval of a replica whose source stopped answering: whether the replica lost it too
/// decides a failover.
const SOURCE_FAILING_POLL: Duration = Duration::from_millis(200);

/// What a caller waiting on a probe gets: the canonical key, or why it failed.
pub type ProbeOutcome = Result<InstanceKey, String>;

/// Requests to a prober.
pub enum ProberCommand {
    /// Probe now (also in the middle of a backoff); answer when done, if asked to.
    ProbeNow(Option<oneshot::Sender<ProbeOutcome>>),
}

/// The handle `Discovery` keeps for each prober.
pub struct Prober {
    pub commands: mpsc::Sender<ProberCommand>,
    pub cancel: CancellationToken,
}

/// The task behind a `Prober`.
pub struct ProberTask {
    /// The name this server is reached by.
    pub target: InstanceKey,
    pub discovery: Discovery,
    pub commands: mpsc::Receiver<ProberCommand>,
    pub cancel: CancellationToken,
    conn: Option<ProbeConn>,
    failures: u32,
}

impl ProberTask {
    pub fn new(target: InstanceKey, discovery: Discovery, commands: mpsc::Receiver<ProberCommand>, cancel: CancellationToken) -> Self {
        ProberTask { target, discovery, commands, cancel, conn: None, failures: 0 }
    }

    pub async fn run(mut self, first: Option<oneshot::Sender<ProbeOutcome>>) {
        let mut waiters: Vec<oneshot::Sender<ProbeOutcome>> = first.into_iter().collect();
        let mut next = Instant::now();
        let ping_every = self.discovery.settings().ping_interval;
        let mut last_contact = Instant::now();
        loop {
            if next <= Instant::now() || !waiters.is_empty() {
                let cancel = self.cancel.clone();
                let outcome = tokio::select! {
                    _ = cancel.cancelled() => break,
                    outcome = self.probe_once() => outcome,
                };
                for w in waiters.drain(..) {
                    let _ = w.send(outcome.clone());
                }
                if self.cancel.is_cancelled() {
                    break;
                }
                next = Instant::now() + self.delay();
                last_contact = Instant::now();
            }
            // Between polls, a ping on the open connection: a server that died or hung is
            // probed again at once instead of at its next poll.
            let ping_at = (!ping_every.is_zero() && self.conn.is_some()).then(|| last_contact + ping_every).filter(|t| *t < next);
            tokio::select! {
                _ = self.cancel.cancelled() => break,
                _ = tokio::time::sleep_until(ping_at.unwrap_or(next).into()) => {
                    if ping_at.is_some() {
                        last_contact = Instant::now();
                        if !self.ping().await {
                            next = Instant::now();
                        }
                    }
                }
                cmd = self.commands.recv() => match cmd {
                    Some(ProberCommand::ProbeNow(Some(reply))) => waiters.push(reply),
                    Some(ProberCommand::ProbeNow(None)) => next = Instant::now(),
                    None => break,
                },
            }
        }
        if let Some(c) = self.conn.take() {
            c.conn.close().await;
        }
    }

    /// Pings the open connection; false (and the connection dropped) when it fails.
    async fn ping(&mut self) -> bool {
        let Some(c) = self.conn.as_mut() else { return true };
        if matches!(tokio::time::timeout(PING_TIMEOUT, c.conn.ping()).await, Ok(Ok(()))) {
            return true;
        }
        // Dropped, not closed: a hung server would not answer the goodbye either.
        self.conn = None;
        false
    }

    /// The regular interval, stretched while the server keeps failing.
    fn delay(&self) -> Duration {
        let poll = self.discovery.settings().poll_interval;
        if self.failures <= 1 {
            if self.discovery.source_is_failing(&self.target) {
                return poll.min(SOURCE_FAILING_POLL);
            }
            return poll;
        }
        let factor = 1u32 << (self.failures - 1).min(6);
        (poll * factor).min(MAX_BACKOFF.max(poll))
    }

    async fn probe_once(&mut self) -> ProbeOutcome {
        let settings = self.discovery.settings().clone();
        let _permit = self.discovery.concurrency().acquire_owned().await;
        let started = Utc::now();
        let clock = Instant::now();
        let result = self.connect_and_probe(&settings).await;
        let latency = clock.elapsed();
        match result {
            Ok(probe) => {
                self.failures = 0;
                let key = probe.instance.key.clone();
                self.discovery.on_probe_success(&self.target, probe, started, latency);
                Ok(key)
            }
            Err(e) => {
                self.failures += 1;
                self.conn = None;
                let message = e.to_string();
                self.discovery.on_probe_failure(&self.target, started, &message);
                Err(message)
            }
        }
    }

    async fn connect_and_probe(&mut self, settings: &super::DiscoverySettings) -> Result<crate::mysql::probe::ProbeResult, MySqlError> {
        if self.conn.is_none() {
            let clock = Instant::now();
            let spec = settings.connect_spec(&self.target);
            let conn = TextConn::connect(&spec).await?;
            self.conn = Some(ProbeConn::new(conn).await?);
            self.discovery.on_connected(clock.elapsed());
        }
        let conn = self.conn.as_mut().expect("connection was just set");
        conn.probe(&self.target, &settings.probe).await
    }
}
