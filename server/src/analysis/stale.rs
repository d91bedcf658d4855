//! Since when a semi-sync primary's binary log position has stood still (orchestrator's
//! `database_instance_stale_binlog_coordinates`). A primary waiting for acknowledgements it
//! cannot get accepts no commits, so its position stops: seen still for
//! `ReasonableLockedSemiSyncMasterSeconds`, the hypothesis becomes `LockedSemiSyncMaster`.
//!
//! Pure bookkeeping: the caller records after each analysis pass, and hands the records to the
//! next pass through `Snapshot::frozen_coordinates`.

use app::model::analysis::{AnalysisCode, ReplicationAnalysis};
use app::model::{BinlogCoordinates, InstanceKey};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// A position and when it was first seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrozenCoordinates {
    pub coordinates: BinlogCoordinates,
    pub since: DateTime<Utc>,
}

/// The positions of primaries suspected of a locked semi-sync.
#[derive(Clone, Debug, Default)]
pub struct StaleCoordinates {
    seen: BTreeMap<InstanceKey, FrozenCoordinates>,
}

impl StaleCoordinates {
    /// The records, for the next analysis pass.
    pub fn records(&self) -> BTreeMap<InstanceKey, FrozenCoordinates> {
        self.seen.clone()
    }

    /// Learns from one analysis pass: a suspected primary keeps its first-seen time while its
    /// position stays put and restarts the clock when it moves; every other record is
    /// dropped, so a primary that was fine in between starts over.
    pub fn observe(&mut self, entries: &[ReplicationAnalysis], now: DateTime<Utc>) {
        let mut next = BTreeMap::new();
        for e in entries {
            if !matches!(e.analysis, AnalysisCode::LockedSemiSyncMasterHypothesis | AnalysisCode::LockedSemiSyncMaster) {
                continue;
            }
            let since = match self.seen.get(&e.analyzed_instance_key) {
                Some(f) if f.coordinates == e.binlog_coordinates => f.since,
                _ => now,
            };
            next.insert(e.analyzed_instance_key.clone(), FrozenCoordinates { coordinates: e.binlog_coordinates.clone(), since });
        }
        self.seen = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(code: AnalysisCode, pos: u64) -> ReplicationAnalysis {
        ReplicationAnalysis {
            analyzed_instance_key: InstanceKey::new("db1", 3306),
            analysis: code,
            binlog_coordinates: BinlogCoordinates::binlog("bin.000001", pos),
            ..Default::default()
        }
    }

    #[test]
    fn the_clock_runs_while_the_position_stands_still() {
        let t0 = Utc::now();
        let later = t0 + chrono::Duration::seconds(30);
        let mut s = StaleCoordinates::default();
        s.observe(&[entry(AnalysisCode::LockedSemiSyncMasterHypothesis, 100)], t0);
        s.observe(&[entry(AnalysisCode::LockedSemiSyncMasterHypothesis, 100)], later);
        assert_eq!(s.records()[&InstanceKey::new("db1", 3306)].since, t0);
        // The position moved: the clock restarts.
        s.observe(&[entry(AnalysisCode::LockedSemiSyncMasterHypothesis, 200)], later);
        assert_eq!(s.records()[&InstanceKey::new("db1", 3306)].since, later);
        // Fine again: forgotten.
        s.observe(&[entry(AnalysisCode::NoProblem, 200)], later);
        assert!(s.records().is_empty());
    }
}
