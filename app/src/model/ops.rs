//! Topology operations as data: what an operator (API, CLI, a drop in the graph) asks for, the
//! plan the server would run (shown before anything is touched), and the report of a run.

use super::InstanceKey;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One operation on the topology, with orchestrator's command name (`Operation::name`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "Operation", rename_all = "kebab-case")]
pub enum Operation {
    /// Move `instance` below `target` by whatever mechanism works (smart mode).
    Relocate { instance: InstanceKey, target: InstanceKey },
    /// Move every replica of `instance` (whose key matches `pattern`, if given) below `target`.
    RelocateReplicas { instance: InstanceKey, target: InstanceKey, pattern: Option<String> },
    /// Make `instance` a replica of its grandparent (binlog coordinates).
    MoveUp { instance: InstanceKey },
    /// Move every replica of `instance` up to `instance`'s source.
    MoveUpReplicas { instance: InstanceKey },
    /// Make `instance` a replica of its sibling `target` (binlog coordinates).
    MoveBelow { instance: InstanceKey, target: InstanceKey },
    /// Move `instance` below `target` with GTID.
    MoveGtid { instance: InstanceKey, target: InstanceKey },
    /// Move every replica of `instance` below `target` with GTID.
    MoveReplicasGtid { instance: InstanceKey, target: InstanceKey },
    /// Point `instance` at `target` (default: its current source) keeping its coordinates.
    Repoint { instance: InstanceKey, target: Option<InstanceKey> },
    /// Repoint every replica of `instance` at `instance`.
    RepointReplicas { instance: InstanceKey },
    /// Make the siblings of `instance` its replicas.
    TakeSiblings { instance: InstanceKey },
    /// Swap `instance` and its source.
    TakeMaster { instance: InstanceKey },
    /// Make `instance`'s source replicate from `instance` (co-masters).
    MakeCoMaster { instance: InstanceKey },
    /// Promote the best replica of `instance` over its siblings.
    RegroupReplicas { instance: InstanceKey },
    StopReplica { instance: InstanceKey },
    StartReplica { instance: InstanceKey },
    RestartReplica { instance: InstanceKey },
    /// Stop the IO thread, let the SQL thread apply the relay log, then stop it.
    StopReplicaNice { instance: InstanceKey },
    /// Stop replication and forget the source (RESET REPLICA ALL).
    ResetReplica { instance: InstanceKey },
    /// Break replication reversibly: the source host becomes `//host`.
    DetachReplicaMasterHost { instance: InstanceKey },
    ReattachReplicaMasterHost { instance: InstanceKey },
    /// Skip the statement the SQL thread failed on.
    SkipQuery { instance: InstanceKey },
    SetReadOnly { instance: InstanceKey },
    SetWriteable { instance: InstanceKey },
    EnableSemiSyncMaster { instance: InstanceKey },
    DisableSemiSyncMaster { instance: InstanceKey },
    EnableSemiSyncReplica { instance: InstanceKey },
    DisableSemiSyncReplica { instance: InstanceKey },
    /// Set the replication delay (seconds), keeping the threads as they were.
    DelayReplication { instance: InstanceKey, seconds: u32 },
    FlushBinaryLogs { instance: InstanceKey },
    /// Inject an empty transaction for each errant GTID of `instance` on its cluster's primary.
    GtidErrantInjectEmpty { instance: InstanceKey },
    /// Promote `instance`, a direct replica of its cluster's primary: the primary goes
    /// read-only, `instance` catches up and takes writes, the old primary replicates from it
    /// (stopped). Run by the recovery (`graceful-master-takeover`), not as a refactoring.
    GracefulMasterTakeover { instance: InstanceKey },
}

impl Operation {
    /// orchestrator's command name.
    pub fn name(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("Operation").and_then(|n| n.as_str()).map(str::to_string))
            .unwrap_or_default()
    }

    /// The instance the operation is about.
    pub fn instance(&self) -> &InstanceKey {
        use Operation::*;
        match self {
            Relocate { instance, .. }
            | RelocateReplicas { instance, .. }
            | MoveUp { instance }
            | MoveUpReplicas { instance }
            | MoveBelow { instance, .. }
            | MoveGtid { instance, .. }
            | MoveReplicasGtid { instance, .. }
            | Repoint { instance, .. }
            | RepointReplicas { instance }
            | TakeSiblings { instance }
            | TakeMaster { instance }
            | MakeCoMaster { instance }
            | RegroupReplicas { instance }
            | StopReplica { instance }
            | StartReplica { instance }
            | RestartReplica { instance }
            | StopReplicaNice { instance }
            | ResetReplica { instance }
            | DetachReplicaMasterHost { instance }
            | ReattachReplicaMasterHost { instance }
            | SkipQuery { instance }
            | SetReadOnly { instance }
            | SetWriteable { instance }
            | EnableSemiSyncMaster { instance }
            | DisableSemiSyncMaster { instance }
            | EnableSemiSyncReplica { instance }
            | DisableSemiSyncReplica { instance }
            | DelayReplication { instance, .. }
            | FlushBinaryLogs { instance }
            | GtidErrantInjectEmpty { instance }
            | GracefulMasterTakeover { instance } => instance,
        }
    }

    /// The destination, for operations that have one.
    pub fn target(&self) -> Option<&InstanceKey> {
        use Operation::*;
        match self {
            Relocate { target, .. } | RelocateReplicas { target, .. } | MoveBelow { target, .. } | MoveGtid { target, .. } | MoveReplicasGtid { target, .. } => {
                Some(target)
            }
            Repoint { target, .. } => target.as_ref(),
            _ => None,
        }
    }
}

/// One step of a plan as people read it: on which server, why, and the statements.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanStep {
    #[serde(rename = "Server")]
    pub server: InstanceKey,
    #[serde(rename = "Description")]
    pub description: String,
    /// Statements in order; values only known while running (positions read at that moment)
    /// appear as `<...>`.
    #[serde(rename = "Statements")]
    pub statements: Vec<String>,
}

/// What an operation would do, before anything is touched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    #[serde(rename = "Operation")]
    pub operation: String,
    #[serde(rename = "Instance")]
    pub instance: InstanceKey,
    #[serde(rename = "Target")]
    pub target: Option<InstanceKey>,
    /// For moves: `gtid`, `move-below`, `move-up`, `repoint` (what smart mode chose).
    #[serde(rename = "Mechanism")]
    pub mechanism: String,
    #[serde(rename = "Steps")]
    pub steps: Vec<PlanStep>,
}

/// One step as it ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepRun {
    #[serde(rename = "Server")]
    pub server: InstanceKey,
    #[serde(rename = "Description")]
    pub description: String,
    /// The statements actually sent, with the values read while running.
    #[serde(rename = "Statements")]
    pub statements: Vec<String>,
    #[serde(rename = "Started")]
    pub started: DateTime<Utc>,
    #[serde(rename = "DurationMillis")]
    pub duration_ms: f64,
    /// Empty when the step succeeded.
    #[serde(rename = "Error")]
    pub error: String,
}

/// A replica that ended up replicating from a new source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    #[serde(rename = "Instance")]
    pub instance: InstanceKey,
    #[serde(rename = "Source")]
    pub source: InstanceKey,
}

/// What a run did: every step, and on failure what was put back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OperationReport {
    #[serde(rename = "Plan")]
    pub plan: Plan,
    #[serde(rename = "Steps")]
    pub steps: Vec<StepRun>,
    /// Steps run to put replication back as it was, after a failure.
    #[serde(rename = "Rollback")]
    pub rollback: Vec<StepRun>,
    /// Replicas now under a new source (moves put back by a rollback are not listed).
    #[serde(rename = "Moved", default)]
    pub moved: Vec<Moved>,
    #[serde(rename = "Success")]
    pub success: bool,
    #[serde(rename = "Error")]
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_carry_orchestrators_names() {
        let k = InstanceKey::new("db1", 3306);
        let op = Operation::MoveGtid { instance: k.clone(), target: InstanceKey::new("db2", 3306) };
        assert_eq!(op.name(), "move-gtid");
        assert_eq!(Operation::DetachReplicaMasterHost { instance: k.clone() }.name(), "detach-replica-master-host");
        assert_eq!(Operation::GtidErrantInjectEmpty { instance: k.clone() }.name(), "gtid-errant-inject-empty");
        assert_eq!(op.instance(), &k);
        assert_eq!(op.target().unwrap().hostname, "db2");
        let json = serde_json::to_string(&op).unwrap();
        assert_eq!(serde_json::from_str::<Operation>(&json).unwrap(), op);
    }
}
