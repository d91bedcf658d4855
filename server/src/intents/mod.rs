//! Operator intents: maintenance locks, downtimes, promotion rules (`register-candidate`) and
//! tags — what people declared about servers, as opposed to what discovery observes.
//!
//! Every change goes through one place, `Intents::apply`: the command is checked against the
//! current set (a second maintenance lock on a server is refused), written to the store, applied
//! to the in-memory set, published to discovery (whose derived view shows downtime and promotion
//! rules, and which topology operations ask about maintenance), then audited. Commands carry
//! their own timestamps, so raft can later replicate them as they are.
//!
//! Windows and registrations stop counting at their end time: readers compare with the clock. A
//! caretaker removes ended records every `CARETAKING_INTERVAL`, as orchestrator's does.
//!
//! # Layout
//! - `model`: records, commands, the set and its queries (pure).
//! - `parse`: durations, tag syntax, owner and reason text (pure).
//! - here:    the `Intents` handle (resolution, defaults, the write path, audit) and its
//!   caretaker task.

pub mod model;
pub mod parse;

use crate::config::constants::{CARETAKING_INTERVAL, DOWNTIME_DEFAULT, MAINTENANCE_DEFAULT};
use crate::discovery::Discovery;
use crate::raft::{Command, Replicated, WriteError};
use crate::store::{Store, StoreError};
use app::model::InstanceKey;
use chrono::{DateTime, Utc};
use model::{Candidate, Conflict, Effect, IntentCommand, IntentSet, PromotionRule, Tag, Window};
use parse::TagFilter;
use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Why an intent request was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum IntentError {
    /// Malformed input: a duration, tag, rule, owner or reason.
    #[error("{0}")]
    Invalid(String),
    /// Neither discovery nor the intents know this server.
    #[error("unknown instance {0}")]
    UnknownInstance(InstanceKey),
    /// The server has no such tag.
    #[error("tag {name} not found for {instance}")]
    NoSuchTag { instance: InstanceKey, name: String },
    /// Refused by the current intents (already in maintenance).
    #[error("{0}")]
    Conflict(#[from] Conflict),
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The replicated write failed (not the leader, no quorum).
    #[error("{0}")]
    Write(#[from] WriteError),
}

/// What intents take from the configuration.
#[derive(Clone, Debug)]
pub struct IntentSettings {
    /// `CandidateInstanceExpireMinutes`: how long a `register-candidate` counts.
    pub candidate_expiry: Duration,
    /// How often ended records are removed.
    pub caretaking_interval: Duration,
}

impl Default for IntentSettings {
    fn default() -> Self {
        IntentSettings { candidate_expiry: Duration::from_secs(60 * 60), caretaking_interval: CARETAKING_INTERVAL }
    }
}

struct Inner {
    store: Store,
    replicated: Replicated,
    discovery: Discovery,
    settings: IntentSettings,
    /// The set every reader sees; replaced whole after each write.
    current: RwLock<Arc<IntentSet>>,
    /// One writer at a time, so that the check against the set and the write are one step.
    writer: tokio::sync::Mutex<()>,
}

/// Handle to the operator intents; cheap to clone.
#[derive(Clone)]
pub struct Intents {
    inner: Arc<Inner>,
}

/// Who ran the caretaker's commands, in the audit log.
const CARETAKER: &str = "orchestrator";

impl Intents {
    /// Loads the intents from the store, shows them in discovery's view, and starts the
    /// caretaker (stopped by `cancel`).
    pub async fn start(replicated: Replicated, discovery: Discovery, settings: IntentSettings, cancel: CancellationToken) -> Result<Intents, StoreError> {
        let store = replicated.store().clone();
        let set = Arc::new(store.load_intents().await?);
        discovery.set_intents(set.clone());
        let intents = Intents {
            inner: Arc::new(Inner { store, replicated, discovery, settings, current: RwLock::new(set), writer: tokio::sync::Mutex::new(()) }),
        };
        tokio::spawn(intents.clone().caretaker(cancel));
        Ok(intents)
    }

    /// The current records (ended ones included until the caretaker removes them).
    pub fn snapshot(&self) -> Arc<IntentSet> {
        self.inner.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A server discovery knows, by its canonical name, or by its instance alias (`-i mysql3`
    /// in the seed's environment, where `DetectInstanceAliasQuery` names the servers).
    fn known(&self, key: &InstanceKey) -> Result<InstanceKey, IntentError> {
        if let Some(k) = self.inner.discovery.resolve_known(key) {
            return Ok(k);
        }
        let view = self.inner.discovery.instances();
        let mut named = view.values().filter(|i| !i.instance_alias.is_empty() && i.instance_alias.eq_ignore_ascii_case(&key.hostname));
        match (named.next(), named.next()) {
            (Some(one), None) => Ok(one.key.clone()),
            _ => Err(IntentError::UnknownInstance(key.clone())),
        }
    }

    /// A server discovery knows, or one that still has records (forgotten since).
    fn known_or_recorded(&self, key: &InstanceKey) -> Result<InstanceKey, IntentError> {
        if let Ok(k) = self.known(key) {
            return Ok(k);
        }
        if self.snapshot().has_records(key) {
            return Ok(key.clone());
        }
        Err(IntentError::UnknownInstance(key.clone()))
    }

    /// Locks `key` for maintenance for `duration` (default 10 minutes); refused while it is
    /// already locked.
    pub async fn begin_maintenance(&self, key: &InstanceKey, owner: &str, reason: &str, duration: Option<Duration>) -> Result<Window, IntentError> {
        let window = self.window(key, owner, reason, duration.unwrap_or(MAINTENANCE_DEFAULT))?;
        self.apply(IntentCommand::BeginMaintenance(window.clone()), &window.owner).await?;
        Ok(window)
    }

    /// Ends `key`'s maintenance; false when it had none.
    pub async fn end_maintenance(&self, key: &InstanceKey, who: &str) -> Result<bool, IntentError> {
        let key = self.known_or_recorded(key)?;
        Ok(!self.apply(IntentCommand::EndMaintenance { instance: key }, who).await?.instances.is_empty())
    }

    /// `key`'s maintenance window, if one is active.
    pub fn maintenance_of(&self, key: &InstanceKey) -> Result<Option<Window>, IntentError> {
        let key = self.known_or_recorded(key)?;
        Ok(self.snapshot().maintenance_of(&key, Utc::now()).cloned())
    }

    /// Every active maintenance window.
    pub fn active_maintenance(&self) -> Vec<Window> {
        self.snapshot().active_maintenance(Utc::now()).into_iter().cloned().collect()
    }

    /// Downtimes `key` for `duration`; a missing duration is orchestrator's default (10
    /// minutes), never a window that ends as it begins. Replaces a previous downtime.
    pub async fn begin_downtime(&self, key: &InstanceKey, owner: &str, reason: &str, duration: Option<Duration>) -> Result<Window, IntentError> {
        let window = self.window(key, owner, reason, duration.unwrap_or(DOWNTIME_DEFAULT))?;
        self.apply(IntentCommand::BeginDowntime(window.clone()), &window.owner).await?;
        Ok(window)
    }

    /// Ends `key`'s downtime; false when it had none.
    pub async fn end_downtime(&self, key: &InstanceKey, who: &str) -> Result<bool, IntentError> {
        let key = self.known_or_recorded(key)?;
        Ok(!self.apply(IntentCommand::EndDowntime { instance: key }, who).await?.instances.is_empty())
    }

    /// Registers `key`'s promotion rule for `CandidateInstanceExpireMinutes`.
    pub async fn register_candidate(&self, key: &InstanceKey, rule: PromotionRule, who: &str) -> Result<Candidate, IntentError> {
        let instance = self.known(key)?;
        let registered = Utc::now();
        let expires = end_after(registered, self.inner.settings.candidate_expiry)?;
        let candidate = Candidate { instance, rule, registered, expires };
        self.apply(IntentCommand::RegisterCandidate(candidate.clone()), who).await?;
        Ok(candidate)
    }

    /// Sets tag `tag` on `key` (replacing its value).
    pub async fn tag(&self, key: &InstanceKey, tag: TagFilter, who: &str) -> Result<Tag, IntentError> {
        let tag = tag.positive("tag").map_err(IntentError::Invalid)?;
        let instance = self.known(key)?;
        let tag = Tag { name: tag.name, value: tag.value.unwrap_or_default() };
        self.apply(IntentCommand::PutTag { instance, tag: tag.clone(), at: Utc::now() }, who).await?;
        Ok(tag)
    }

    /// Removes a tag from `key` (only where it has the given value, if one is given); returns
    /// the servers that had it.
    pub async fn untag(&self, key: &InstanceKey, tag: TagFilter, who: &str) -> Result<Vec<InstanceKey>, IntentError> {
        let tag = tag.positive("untag").map_err(IntentError::Invalid)?;
        let instance = self.known_or_recorded(key)?;
        let command = IntentCommand::Untag { instance: Some(instance), name: tag.name, value: tag.value };
        Ok(self.apply(command, who).await?.instances)
    }

    /// Removes `name=value` from every server; a value is required, as in orchestrator ("will
    /// not delete a tag across instances by name alone").
    pub async fn untag_all(&self, tag: TagFilter, who: &str) -> Result<Vec<InstanceKey>, IntentError> {
        let tag = tag.positive("untag-all").map_err(IntentError::Invalid)?;
        let Some(value) = tag.value else {
            return Err(IntentError::Invalid(format!(
                "untag-all needs name=value (use `{}=` for tags without a value); it does not remove a tag from every server by name alone",
                tag.name
            )));
        };
        Ok(self.apply(IntentCommand::Untag { instance: None, name: tag.name, value: Some(value) }, who).await?.instances)
    }

    /// `key`'s tags, by name.
    pub fn tags_of(&self, key: &InstanceKey) -> Result<Vec<Tag>, IntentError> {
        let key = self.known_or_recorded(key)?;
        Ok(self.snapshot().tags_of(&key))
    }

    /// The value of tag `name` on `key`.
    pub fn tag_value(&self, key: &InstanceKey, name: &str) -> Result<String, IntentError> {
        let key = self.known_or_recorded(key)?;
        let tags = self.snapshot().tags_of(&key);
        tags.into_iter()
            .find(|t| t.name == name)
            .map(|t| t.value)
            .ok_or_else(|| IntentError::NoSuchTag { instance: key, name: name.to_string() })
    }

    /// Servers matching every term of a `tagged` query.
    pub fn tagged(&self, query: &[TagFilter]) -> BTreeSet<InstanceKey> {
        let known: Vec<InstanceKey> = self.inner.discovery.instances().keys().cloned().collect();
        self.snapshot().tagged(query, known)
    }

    /// Removes what ended by `now`. Returns what it removed.
    pub async fn expire(&self, now: DateTime<Utc>) -> Result<Effect, IntentError> {
        if !self.snapshot().has_expired(now) {
            return Ok(Effect::default());
        }
        self.apply(IntentCommand::Expire { now }, CARETAKER).await
    }

    fn window(&self, key: &InstanceKey, owner: &str, reason: &str, duration: Duration) -> Result<Window, IntentError> {
        let owner = parse::validate_text("owner", owner).map_err(IntentError::Invalid)?;
        let reason = parse::validate_text("reason", reason).map_err(IntentError::Invalid)?;
        if duration.is_zero() || duration > parse::MAX_DURATION {
            return Err(IntentError::Invalid(format!("duration must be between 1s and {}", parse::format_duration(parse::MAX_DURATION))));
        }
        let instance = self.known(key)?;
        let begin = Utc::now();
        Ok(Window { instance, owner, reason, begin, end: end_after(begin, duration)? })
    }

    /// The one write path: check against the current set, then the replicated write (which
    /// stores the command on every node and, through `absorb`, shows it), then audit here.
    async fn apply(&self, command: IntentCommand, who: &str) -> Result<Effect, IntentError> {
        let effect = {
            let _writer = self.inner.writer.lock().await;
            let mut next = (*self.snapshot()).clone();
            let effect = next.apply(&command)?;
            self.inner.replicated.write(Command::Intent { command: command.clone() }).await?;
            effect
        };
        // The intent is recorded: a failing audit write is logged, not reported as a failure
        // of the request, which would tell the operator it did not happen.
        for (action, instance, message) in audit_lines(&command, &effect) {
            let cluster = self.inner.discovery.instance(&instance).map(|i| i.cluster_name).unwrap_or_default();
            if let Err(e) = self.inner.store.audit(action, &instance, &cluster, who, &message).await {
                tracing::error!(error = %e, action, %instance, "writing the audit entry failed");
            }
        }
        Ok(effect)
    }

    /// Shows an applied command (on every node, the writer's included): called by the
    /// replicated state's listener, after the store has it.
    pub fn absorb(&self, command: &IntentCommand) {
        let mut next = (*self.snapshot()).clone();
        if let Err(e) = next.apply(command) {
            // The writer checked the same command against the same set: only a node whose
            // store diverged gets here.
            tracing::error!(error = %e, action = command.action(), "a replicated intent does not apply to this node's set");
            return;
        }
        self.publish(Arc::new(next));
    }

    /// Reloads the set from the store (after a raft snapshot replaced it).
    pub async fn reload(&self) -> Result<(), StoreError> {
        let set = Arc::new(self.inner.store.load_intents().await?);
        self.publish(set);
        Ok(())
    }

    fn publish(&self, next: Arc<IntentSet>) {
        *self.inner.current.write().unwrap_or_else(|p| p.into_inner()) = next.clone();
        self.inner.discovery.set_intents(next);
    }

    async fn caretaker(self, cancel: CancellationToken) {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(self.inner.settings.caretaking_interval) => {}
            }
            // Expiry is a replicated command: the leader's caretaker writes it for everyone.
            if !self.inner.replicated.is_leader() {
                continue;
            }
            if let Err(e) = self.expire(Utc::now()).await {
                tracing::error!(error = %e, "removing ended maintenance, downtime and promotion rules failed");
            }
        }
    }
}

fn end_after(begin: DateTime<Utc>, duration: Duration) -> Result<DateTime<Utc>, IntentError> {
    chrono::Duration::from_std(duration)
        .ok()
        .and_then(|d| begin.checked_add_signed(d))
        .ok_or_else(|| IntentError::Invalid("duration is too long".into()))
}

fn until(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The audit entries of an applied command: (action, instance, message). A command that
/// changed nothing (ending a window that did not exist) leaves none.
fn audit_lines(command: &IntentCommand, effect: &Effect) -> Vec<(&'static str, InstanceKey, String)> {
    let action = command.action();
    match command {
        IntentCommand::BeginMaintenance(w) | IntentCommand::BeginDowntime(w) => {
            vec![(action, w.instance.clone(), format!("owner: {}, reason: {}, until: {}", w.owner, w.reason, until(w.end)))]
        }
        IntentCommand::RegisterCandidate(c) => vec![(action, c.instance.clone(), format!("{} until {}", c.rule.as_str(), until(c.expires)))],
        IntentCommand::PutTag { instance, tag, .. } => vec![(action, instance.clone(), tag.stored_form())],
        IntentCommand::Untag { name, value, .. } => {
            let what = match value {
                Some(v) => format!("{name}={v}"),
                None => name.clone(),
            };
            effect.instances.iter().map(|k| (action, k.clone(), what.clone())).collect()
        }
        IntentCommand::EndMaintenance { .. } | IntentCommand::EndDowntime { .. } => {
            effect.instances.iter().map(|k| (action, k.clone(), String::new())).collect()
        }
        IntentCommand::Expire { .. } => {
            let windows = |action: &'static str, list: &[Window]| {
                list.iter()
                    .map(move |w| (action, w.instance.clone(), format!("ended at {} (owner: {}, reason: {})", until(w.end), w.owner, w.reason)))
                    .collect::<Vec<_>>()
            };
            let mut lines = windows("expire-maintenance", &effect.expired_maintenance);
            lines.extend(windows("expire-downtime", &effect.expired_downtime));
            lines.extend(
                effect
                    .expired_candidates
                    .iter()
                    .map(|c| ("expire-candidate", c.instance.clone(), format!("{} registered at {}", c.rule.as_str(), until(c.registered)))),
            );
            lines
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The caretaker removes what ended, from the set, the view and the store, and audits it.
    /// Real time with a short interval: the store's pool has timeouts of its own, which paused
    /// time would fire while SQLite works on its thread.
    #[tokio::test]
    async fn the_caretaker_removes_ended_records() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("o.sqlite3")).await.unwrap();
        let cancel = CancellationToken::new();
        let settings = crate::node::discovery_settings(&crate::config::Config::default());
        let discovery = Discovery::start(settings, store.clone(), cancel.child_token()).await.unwrap();
        let interval = Duration::from_millis(50);
        let replicated = crate::raft::Replicated::new(store.clone());
        let intents = Intents::start(replicated.clone(), discovery.clone(), IntentSettings { caretaking_interval: interval, ..Default::default() }, cancel.clone())
            .await
            .unwrap();
        let shown = intents.clone();
        replicated.set_listener(std::sync::Arc::new(move |e: crate::raft::Event<'_>| {
            if let crate::raft::Event::Applied(Command::Intent { command }) = e {
                shown.absorb(command);
            }
        }));
        let key = InstanceKey::new("db1", 3306);
        let now = Utc::now();
        let ended = Window { instance: key.clone(), owner: "ops".into(), reason: "done".into(), begin: now - chrono::Duration::minutes(5), end: now };
        let running = Window { end: now + chrono::Duration::hours(1), instance: InstanceKey::new("db2", 3306), ..ended.clone() };
        intents.apply(IntentCommand::BeginDowntime(ended), "test").await.unwrap();
        intents.apply(IntentCommand::BeginMaintenance(running), "test").await.unwrap();
        assert!(discovery.maintenance_of(&InstanceKey::new("db2", 3306)).is_some());
        assert_eq!(store.load_intents().await.unwrap().downtime.len(), 1);

        // The audit entry is the last thing the caretaker's pass writes.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let audit = loop {
            let audit = store.list_audit(0, Some(&key)).await.unwrap();
            if audit.first().is_some_and(|e| e.action == "expire-downtime") {
                break audit;
            }
            assert!(std::time::Instant::now() < deadline, "the caretaker did not remove the ended downtime: {audit:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        assert!(intents.snapshot().downtime.is_empty());
        assert!(discovery.instances().is_empty() || !discovery.instances().values().any(|i| i.is_downtimed));
        let stored = store.load_intents().await.unwrap();
        assert!(stored.downtime.is_empty() && stored.maintenance.len() == 1, "{stored:?}");
        assert_eq!(audit[0].who, "orchestrator");
        cancel.cancel();
    }

    #[test]
    fn audit_lines_name_what_changed() {
        let k = InstanceKey::new("db1", 3306);
        let t = DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let w = Window { instance: k.clone(), owner: "alice".into(), reason: "kernel".into(), begin: t, end: t + chrono::Duration::minutes(10) };
        let lines = audit_lines(&IntentCommand::BeginDowntime(w.clone()), &Effect::default());
        assert_eq!(lines, vec![("begin-downtime", k.clone(), "owner: alice, reason: kernel, until: 2025-01-01 00:10:00 UTC".to_string())]);
        // Ending what did not exist leaves no entry.
        assert!(audit_lines(&IntentCommand::EndDowntime { instance: k.clone() }, &Effect::default()).is_empty());
        let expired = Effect { expired_downtime: vec![w], ..Default::default() };
        let lines = audit_lines(&IntentCommand::Expire { now: t }, &expired);
        assert_eq!(lines[0].0, "expire-downtime");
        assert!(lines[0].2.contains("alice"));
    }
}
