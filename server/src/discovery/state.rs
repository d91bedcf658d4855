//! What discovery knows: the observations, names learned by probing, recently forgotten servers,
//! and a cached derived view. Owned by `Discovery` behind a lock; every method here is
//! synchronous and quick, so the lock is never held across IO.

use crate::topology::{derive, Declarations, DeriveSettings, Observed};
use app::model::{Instance, InstanceKey};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The derived view is recomputed at most this often when nothing changed, because health
/// fields (`IsUpToDate`, `Problems`) depend on the clock.
const VIEW_MAX_AGE: Duration = Duration::from_millis(250);

#[derive(Default)]
pub struct State {
    /// Last observation of every known server, by canonical key.
    pub observed: HashMap<InstanceKey, Observed>,
    /// Names servers were reached by that differ from their canonical key.
    pub aliases: HashMap<InstanceKey, InstanceKey>,
    /// Recently forgotten servers and when they may be discovered again.
    pub forgotten: HashMap<InstanceKey, Instant>,
    /// Observations not yet written to the store.
    pub dirty: HashSet<InstanceKey>,
    /// Operator declarations included in the view.
    pub declarations: Declarations,
    /// Bumped on every change.
    pub version: u64,
    view: Option<CachedView>,
}

struct CachedView {
    version: u64,
    at: Instant,
    instances: Arc<BTreeMap<InstanceKey, Instance>>,
}

impl State {
    /// The canonical key for a name a server was referred to by.
    pub fn resolve(&self, key: &InstanceKey) -> InstanceKey {
        self.aliases.get(key).cloned().unwrap_or_else(|| key.clone())
    }

    pub fn is_known(&self, key: &InstanceKey) -> bool {
        self.observed.contains_key(&self.resolve(key))
    }

    /// Forgotten less than the grace period ago.
    pub fn is_forgotten(&mut self, key: &InstanceKey, now: Instant) -> bool {
        self.forgotten.retain(|_, until| *until > now);
        self.forgotten.contains_key(key)
    }

    fn touch(&mut self, key: &InstanceKey) {
        self.version += 1;
        self.dirty.insert(key.clone());
    }

    /// Records a successful probe. `given` is the name the server was reached by. Returns false
    /// (and records nothing) when the server was forgotten while the probe ran.
    pub fn record_success(&mut self, given: &InstanceKey, mut obs: Observed, started: DateTime<Utc>, latency: Duration) -> bool {
        let key = obs.instance.key.clone();
        let now_instant = Instant::now();
        if self.is_forgotten(given, now_instant) || self.is_forgotten(&key, now_instant) {
            return false;
        }
        if key != *given {
            self.aliases.insert(given.clone(), key.clone());
            // A placeholder created under the other name is the same server.
            if self.observed.remove(given).is_some() {
                self.dirty.insert(given.clone());
            }
        }
        let now = Utc::now();
        let inst = &mut obs.instance;
        inst.last_attempted_check = Some(started);
        inst.last_checked = Some(now);
        inst.last_seen = Some(now);
        inst.is_last_check_valid = true;
        inst.last_probe_error.clear();
        inst.last_discovery_latency = latency.as_nanos() as u64;
        self.observed.insert(key.clone(), obs);
        self.touch(&key);
        true
    }

    /// Records a failed probe: the server is kept, marked as not answering. Returns false when
    /// the server was forgotten meanwhile.
    pub fn record_failure(&mut self, key: &InstanceKey, started: DateTime<Utc>, error: &str) -> bool {
        let key = self.resolve(key);
        if self.is_forgotten(&key, Instant::now()) {
            return false;
        }
        let entry = self
            .observed
            .entry(key.clone())
            .or_insert_with(|| Observed { instance: Instance::unseen(key.clone()), ..Default::default() });
        let inst = &mut entry.instance;
        inst.last_attempted_check = Some(started);
        inst.last_checked = Some(Utc::now());
        inst.is_last_check_valid = false;
        inst.last_probe_error = error.to_string();
        self.touch(&key);
        true
    }

    /// Adds a server known by name only, before its first probe.
    pub fn add_placeholder(&mut self, key: &InstanceKey) {
        if !self.observed.contains_key(key) {
            self.observed.insert(key.clone(), Observed { instance: Instance::unseen(key.clone()), ..Default::default() });
            self.version += 1;
        }
    }

    /// Removes servers; they are not rediscovered for `grace`.
    pub fn forget(&mut self, keys: &[InstanceKey], grace: Duration) {
        let until = Instant::now() + grace;
        for key in keys {
            self.observed.remove(key);
            self.dirty.remove(key);
            self.aliases.retain(|given, canonical| canonical != key && given != key);
            self.forgotten.insert(key.clone(), until);
        }
        self.version += 1;
    }

    /// The derived view of every known server (cached).
    pub fn view(&mut self, settings: &DeriveSettings) -> Arc<BTreeMap<InstanceKey, Instance>> {
        if let Some(v) = &self.view {
            if v.version == self.version && v.at.elapsed() < VIEW_MAX_AGE {
                return v.instances.clone();
            }
        }
        let instances = Arc::new(derive(&self.observed, &self.declarations, settings, Utc::now()));
        self.view = Some(CachedView { version: self.version, at: Instant::now(), instances: instances.clone() });
        instances
    }

    /// Takes the observations to write to the store.
    pub fn take_dirty(&mut self) -> (Vec<Observed>, Vec<InstanceKey>) {
        let mut save = Vec::new();
        let mut delete = Vec::new();
        for key in self.dirty.drain() {
            match self.observed.get(&key) {
                Some(obs) => save.push(obs.clone()),
                None => delete.push(key),
            }
        }
        (save, delete)
    }
}
