//! Every change to replicated state, as one serializable `Command`, and the one function that
//! applies a command to a node's store. Raft carries commands in its log and every node applies
//! them in log order; without raft a node applies them at once. Either way there is one write
//! path (architecture principle 2).
//!
//! Commands carry every timestamp and id they need, so applying the same commands in the same
//! order gives the same tables on every node.

use crate::intents::model::IntentCommand;
use crate::store::{AckTarget, NewDetection, NewRecovery, Registration, Store, StoreError};
use app::model::InstanceKey;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A change to replicated state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "Kind")]
pub enum Command {
    /// An operator intent: maintenance, downtime, promotion rule, tag.
    Intent { command: IntentCommand },
    /// `set-cluster-alias`.
    SetClusterAlias { cluster: String, alias: String, at: DateTime<Utc> },
    /// `discover`: every node starts probing the server.
    Discover { instance: InstanceKey },
    /// `forget` / `forget-cluster`: every node stops probing the servers and drops them.
    Forget { instances: Vec<InstanceKey> },
    /// A recovery starts, unless an active one blocks it (anti-flapping; decided here, in log
    /// order, so that two leaders in a row can never both register one).
    RegisterRecovery { recovery: NewRecovery, active_since: DateTime<Utc>, forced: bool },
    /// How a recovery ended.
    FinishRecovery { id: i64, successful: bool, successor: Option<InstanceKey>, summary: String, record: serde_json::Value, at: DateTime<Utc> },
    /// `ack-*-recoveries`: an acknowledgement given on any node counts everywhere.
    Acknowledge { target: AckTarget, by: String, comment: String, at: DateTime<Utc> },
    /// A failure detection, unless one is active for the server.
    RegisterDetection { detection: NewDetection, active_since: DateTime<Utc> },
    /// Why the recovery of a failing server did not run.
    NoteBlocked { failed: InstanceKey, cluster: String, analysis: String, reason: String, blocking: i64, at: DateTime<Utc> },
    ClearBlocked { failed: InstanceKey },
    /// Forgets blocked recoveries of servers no longer failing.
    ClearBlockedExcept { failing: Vec<InstanceKey> },
    /// An old primary to make read-only when it answers again.
    AddPendingFence { old: InstanceKey, recovery_id: i64, at: DateTime<Utc> },
    RemovePendingFence { old: InstanceKey },
    /// The global recovery switch and observe-only mode.
    SetSwitch { name: String, on: bool, by: String, at: DateTime<Utc> },
}

/// What applying a command answered.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    /// Applied (also the answer to raft's own blank and membership entries).
    #[default]
    Done,
    Registration(Registration),
    /// A new detection's id; `None` when an active one blocked it.
    Detection(Option<i64>),
    /// How many recoveries an acknowledgement covered.
    Acknowledged(u64),
}

impl Command {
    /// The name used in logs.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Intent { command } => command.action(),
            Command::SetClusterAlias { .. } => "set-cluster-alias",
            Command::Discover { .. } => "discover",
            Command::Forget { .. } => "forget",
            Command::RegisterRecovery { .. } => "write-recovery",
            Command::FinishRecovery { .. } => "resolve-recovery",
            Command::Acknowledge { .. } => "ack-recovery",
            Command::RegisterDetection { .. } => "register-failure-detection",
            Command::NoteBlocked { .. } => "note-blocked-recovery",
            Command::ClearBlocked { .. } | Command::ClearBlockedExcept { .. } => "clear-blocked-recovery",
            Command::AddPendingFence { .. } => "add-pending-fence",
            Command::RemovePendingFence { .. } => "remove-pending-fence",
            Command::SetSwitch { .. } => "set-switch",
        }
    }
}

/// Applies `command` to `store`. `Discover` and `Forget` keep the discovery seeds; their effect
/// on probing is the node's discovery's (see `Replicated`'s listener).
pub async fn apply(store: &Store, command: &Command) -> Result<Reply, StoreError> {
    Ok(match command {
        Command::Intent { command } => {
            store.apply_intent(command).await?;
            Reply::Done
        }
        Command::SetClusterAlias { cluster, alias, at } => {
            store.set_cluster_alias(cluster, alias, *at).await?;
            Reply::Done
        }
        Command::Discover { instance } => {
            store.add_discovery_seed(instance).await?;
            Reply::Done
        }
        Command::Forget { instances } => {
            store.remove_discovery_seeds(instances).await?;
            Reply::Done
        }
        Command::RegisterRecovery { recovery, active_since, forced } => {
            Reply::Registration(store.register_recovery(recovery, *active_since, *forced).await?)
        }
        Command::FinishRecovery { id, successful, successor, summary, record, at } => {
            store.finish_recovery(*id, *successful, successor.as_ref(), summary, record, *at).await?;
            Reply::Done
        }
        Command::Acknowledge { target, by, comment, at } => Reply::Acknowledged(store.acknowledge(target, by, comment, *at).await?),
        Command::RegisterDetection { detection, active_since } => Reply::Detection(store.register_detection(detection, *active_since).await?),
        Command::NoteBlocked { failed, cluster, analysis, reason, blocking, at } => {
            store.note_blocked(failed, cluster, analysis, reason, *blocking, *at).await?;
            Reply::Done
        }
        Command::ClearBlocked { failed } => {
            store.clear_blocked(failed).await?;
            Reply::Done
        }
        Command::ClearBlockedExcept { failing } => {
            store.clear_blocked_except(failing).await?;
            Reply::Done
        }
        Command::AddPendingFence { old, recovery_id, at } => {
            store.add_pending_fence(old, *recovery_id, *at).await?;
            Reply::Done
        }
        Command::RemovePendingFence { old } => {
            store.remove_pending_fence(old).await?;
            Reply::Done
        }
        Command::SetSwitch { name, on, by, at } => {
            store.set_switch(name, *on, by, *at).await?;
            Reply::Done
        }
    })
}
