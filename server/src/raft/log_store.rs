//! The raft log, vote, committed and last purged log ids in the node's SQLite store (tables
//! `raft_log` and `raft_meta`, see `store::raft`). Entries are stored as JSON by index.
//!
//! Every write is one SQLite transaction committed before the call returns, so writes reach disk
//! in openraft's order, and `append` reports the entries flushed only once theirs committed.
//! The log reader is a clone: the store handle is shared, SQLite serializes the rest.

use super::types::{Entry, LogId, StorageError, TypeConfig, Vote};
use crate::store::Store;
use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{LogState, OptionalSend, RaftLogReader, StorageIOError};
use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};

const VOTE: &str = "vote";
const COMMITTED: &str = "committed";
const LAST_PURGED: &str = "last_purged";

/// The node's raft log storage; cheap to clone.
#[derive(Clone)]
pub struct LogStore {
    store: Store,
}

impl LogStore {
    /// The log kept in `store`; fails when the raft tables cannot be read.
    pub async fn new(store: Store) -> Result<LogStore, StorageError> {
        let mut log = LogStore { store };
        log.get_log_state().await?;
        Ok(log)
    }

    async fn last_purged(&self) -> Result<Option<LogId>, StorageError> {
        Ok(self.store.raft_meta(LAST_PURGED).await.map_err(|e| StorageIOError::read_logs(&e))?)
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let start = match range.start_bound() {
            Bound::Included(&s) => s,
            Bound::Excluded(&s) => s.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&e) => e.saturating_add(1),
            Bound::Excluded(&e) => e,
            Bound::Unbounded => u64::MAX,
        };
        let texts = self.store.raft_entries(start, end).await.map_err(|e| StorageIOError::read_logs(&e))?;
        let entries: Result<Vec<Entry>, _> = texts.iter().map(|t| serde_json::from_str(t)).collect();
        Ok(entries.map_err(|e| StorageIOError::read_logs(&e))?)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let last_purged_log_id = self.last_purged().await?;
        let last = self.store.raft_last_entry().await.map_err(|e| StorageIOError::read_logs(&e))?;
        let last_log_id = match last {
            Some(text) => Some(serde_json::from_str::<Entry>(&text).map_err(|e| StorageIOError::read_logs(&e))?.log_id),
            None => last_purged_log_id,
        };
        Ok(LogState { last_purged_log_id, last_log_id })
    }

    async fn get_log_reader(&mut self) -> LogStore {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError> {
        let value = serde_json::to_value(vote).map_err(|e| StorageIOError::write_vote(&e))?;
        Ok(self.store.raft_set_meta(&[(VOTE, value)]).await.map_err(|e| StorageIOError::write_vote(&e))?)
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        Ok(self.store.raft_meta(VOTE).await.map_err(|e| StorageIOError::read_vote(&e))?)
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        let value = serde_json::to_value(committed).map_err(|e| StorageIOError::write(&e))?;
        Ok(self.store.raft_set_meta(&[(COMMITTED, value)]).await.map_err(|e| StorageIOError::write(&e))?)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        let committed: Option<Option<LogId>> = self.store.raft_meta(COMMITTED).await.map_err(|e| StorageIOError::read(&e))?;
        Ok(committed.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut rows = Vec::new();
        for e in entries {
            let text = serde_json::to_string(&e).map_err(|err| StorageIOError::write_log_entry(e.log_id, &err))?;
            rows.push((e.log_id.index, text));
        }
        self.store.raft_append(&rows).await.map_err(|e| StorageIOError::write_logs(&e))?;
        callback.log_io_completed(Ok(()));
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        Ok(self.store.raft_truncate(log_id.index).await.map_err(|e| StorageIOError::write_logs(&e))?)
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let value = serde_json::to_value(log_id).map_err(|e| StorageIOError::write_logs(&e))?;
        Ok(self.store.raft_purge(log_id.index, &value).await.map_err(|e| StorageIOError::write_logs(&e))?)
    }
}
