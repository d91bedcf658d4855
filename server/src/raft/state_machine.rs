//! The raft state machine: committed entries applied in log order through
//! `Replicated::apply_committed` to the node's store, the last applied log id (and membership)
//! saved in `raft_meta` after each entry. A snapshot is JSON `{last_applied, membership, data}`
//! with `data` the replicated tables (`Store::export_replicated`); installing one replaces the
//! tables, both pointers and the current snapshot in one transaction, then tells the node to
//! reload (`Event::Restored`). Applying and snapshotting share one lock, so no snapshot is torn.

use super::types::{Entry, LogId, Snapshot, SnapshotMeta, StorageError, StoredMembership, TypeConfig};
use super::{Event, Replicated, Reply};
use openraft::storage::RaftStateMachine;
use openraft::{EntryPayload, OptionalSend, RaftSnapshotBuilder, StorageIOError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::io::Cursor;
use std::sync::Arc;
use tokio::sync::Mutex;

const LAST_APPLIED: &str = "last_applied";
const MEMBERSHIP: &str = "membership";

/// What the state machine has applied.
#[derive(Clone, Default)]
struct Applied {
    last_applied: Option<LogId>,
    membership: StoredMembership,
}

/// A snapshot's bytes, as JSON.
#[derive(Serialize, Deserialize)]
struct Body {
    last_applied: Option<LogId>,
    membership: StoredMembership,
    data: Value,
}

/// The node's raft state machine; clones (snapshot builders) share its lock and pointers.
#[derive(Clone)]
pub struct StateMachine {
    replicated: Replicated,
    applied: Arc<Mutex<Applied>>,
}

impl StateMachine {
    /// The state machine over `replicated`'s store, at the pointers saved there.
    pub async fn new(replicated: Replicated) -> Result<StateMachine, StorageError> {
        let store = replicated.store();
        let read = |e: crate::store::StoreError| StorageIOError::read_state_machine(&e);
        let last_applied: Option<Option<LogId>> = store.raft_meta(LAST_APPLIED).await.map_err(read)?;
        let membership: Option<StoredMembership> = store.raft_meta(MEMBERSHIP).await.map_err(read)?;
        let applied = Applied { last_applied: last_applied.flatten(), membership: membership.unwrap_or_default() };
        Ok(StateMachine { replicated, applied: Arc::new(Mutex::new(applied)) })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = StateMachine;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        let applied = self.applied.lock().await;
        Ok((applied.last_applied, applied.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Reply>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut applied = self.applied.lock().await;
        let mut replies = Vec::new();
        for entry in entries {
            let log_id = entry.log_id;
            let mut saved = vec![(LAST_APPLIED, json!(Some(log_id)))];
            let reply = match entry.payload {
                EntryPayload::Blank => Reply::Done,
                EntryPayload::Normal(command) => self.replicated.apply_committed(&command).await.map_err(|e| StorageIOError::apply(log_id, &e))?,
                EntryPayload::Membership(m) => {
                    applied.membership = StoredMembership::new(Some(log_id), m);
                    saved.push((MEMBERSHIP, json!(applied.membership)));
                    Reply::Done
                }
            };
            self.replicated.store().raft_set_meta(&saved).await.map_err(|e| StorageIOError::apply(log_id, &e))?;
            applied.last_applied = Some(log_id);
            replies.push(reply);
        }
        Ok(replies)
    }

    async fn get_snapshot_builder(&mut self) -> StateMachine {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(&mut self, meta: &SnapshotMeta, snapshot: Box<Cursor<Vec<u8>>>) -> Result<(), StorageError> {
        let failed = |e: &dyn std::fmt::Display| StorageIOError::write_snapshot(Some(meta.signature()), openraft::AnyError::error(e));
        let bytes = snapshot.into_inner();
        let body: Body = serde_json::from_slice(&bytes).map_err(|e| failed(&e))?;
        let installed = Applied { last_applied: meta.last_log_id, membership: meta.last_membership.clone() };
        let pointers = [(LAST_APPLIED, json!(installed.last_applied)), (MEMBERSHIP, json!(installed.membership))];
        let mut applied = self.applied.lock().await;
        self.replicated
            .store()
            .install_replicated(&body.data, &pointers, Some((&json!(meta), &bytes)))
            .await
            .map_err(|e| failed(&e))?;
        *applied = installed;
        drop(applied);
        self.replicated.notify(Event::Restored);
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, StorageError> {
        let read = |e: &dyn std::fmt::Display| StorageIOError::read_snapshot(None, openraft::AnyError::error(e));
        let Some((meta, data)) = self.replicated.store().raft_snapshot().await.map_err(|e| read(&e))? else {
            return Ok(None);
        };
        let meta: SnapshotMeta = serde_json::from_value(meta).map_err(|e| read(&e))?;
        Ok(Some(Snapshot { meta, snapshot: Box::new(Cursor::new(data)) }))
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachine {
    async fn build_snapshot(&mut self) -> Result<Snapshot, StorageError> {
        let applied = self.applied.lock().await;
        let store = self.replicated.store();
        let data = store.export_replicated().await.map_err(|e| StorageIOError::read_state_machine(&e))?;
        let millis = chrono::Utc::now().timestamp_millis();
        let snapshot_id = match &applied.last_applied {
            Some(l) => format!("{}-{}-{millis}", l.leader_id.term, l.index),
            None => format!("none-{millis}"),
        };
        let meta = SnapshotMeta { last_log_id: applied.last_applied, last_membership: applied.membership.clone(), snapshot_id };
        let body = Body { last_applied: applied.last_applied, membership: applied.membership.clone(), data };
        let bytes = serde_json::to_vec(&body).map_err(|e| StorageIOError::write_snapshot(Some(meta.signature()), &e))?;
        store.raft_set_snapshot(&json!(meta), &bytes).await.map_err(|e| StorageIOError::write_snapshot(Some(meta.signature()), &e))?;
        Ok(Snapshot { meta, snapshot: Box::new(Cursor::new(bytes)) })
    }
}
