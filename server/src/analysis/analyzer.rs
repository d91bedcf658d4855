//! `Analyzer`: the thin shell around the pure analysis. It owns the one thing analysis must
//! remember between passes (how long semi-sync primaries' positions have stood still) and is
//! what the API asks, and what the recovery loop (`recovery::watch`) asks every 100 ms.

use super::{analyze, AnalysisSettings, Hints, Snapshot, StaleCoordinates};
use app::model::analysis::ReplicationAnalysis;
use app::model::{Instance, InstanceKey};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// Handle to the analysis; cheap to clone.
#[derive(Clone, Debug)]
pub struct Analyzer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: AnalysisSettings,
    stale: Mutex<StaleCoordinates>,
}

impl Analyzer {
    pub fn new(settings: AnalysisSettings) -> Analyzer {
        Analyzer { inner: Arc::new(Inner { settings, stale: Mutex::new(StaleCoordinates::default()) }) }
    }

    pub fn settings(&self) -> &AnalysisSettings {
        &self.inner.settings
    }

    /// One analysis pass over `instances` (discovery's view) at `now`; servers under
    /// maintenance are left out.
    pub fn analyze<'a>(
        &self,
        instances: impl IntoIterator<Item = &'a Instance>,
        in_maintenance: BTreeSet<InstanceKey>,
        now: DateTime<Utc>,
        hints: Hints,
    ) -> Vec<ReplicationAnalysis> {
        let mut stale = self.inner.stale.lock().unwrap_or_else(|p| p.into_inner());
        let mut snapshot = Snapshot::new(instances, now);
        snapshot.in_maintenance = in_maintenance;
        snapshot.frozen_coordinates = stale.records();
        // Downtimed primaries are remembered too: the caller's hints only filter the answer.
        let mut entries = analyze(&snapshot, &self.inner.settings, Hints { include_downtimed: true, ..hints });
        stale.observe(&entries, now);
        if !hints.include_downtimed {
            entries.retain(|e| !e.skippable_due_to_downtime);
        }
        entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::analysis::AnalysisCode;
    use std::time::Duration;

    #[test]
    fn a_locked_semi_sync_hypothesis_is_confirmed_once_the_position_stood_still_long_enough() {
        let settings = AnalysisSettings { reasonable_locked_semi_sync_master: Duration::from_secs(10), ..Default::default() };
        let analyzer = Analyzer::new(settings);
        let t0 = Utc::now();
        let mut topo = crate::analysis::fixture::topology(t0);
        let primary = topo.get_mut(0).unwrap();
        primary.semi_sync_master_enabled = true;
        primary.semi_sync_master_status = true;
        primary.semi_sync_master_wait_for_replica_count = 2;
        primary.semi_sync_master_clients = 1;
        let code_at = |secs: i64| {
            let now = t0 + chrono::Duration::seconds(secs);
            let mut view = topo.clone();
            for i in &mut view {
                i.last_seen = Some(now);
                i.last_checked = Some(now);
            }
            analyzer.analyze(view.iter(), BTreeSet::new(), now, Hints::default())[0].analysis
        };
        assert_eq!(code_at(0), AnalysisCode::LockedSemiSyncMasterHypothesis);
        assert_eq!(code_at(5), AnalysisCode::LockedSemiSyncMasterHypothesis);
        assert_eq!(code_at(11), AnalysisCode::LockedSemiSyncMaster);
    }
}
