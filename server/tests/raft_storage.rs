//! The raft log store and state machine on the node's SQLite store: openraft's own storage test
//! suite (each case on a fresh store in a temporary directory), and a command carried through
//! the state machine, a snapshot of it installed on a second node.

use openraft::storage::{RaftLogStorage, RaftStateMachine};
use openraft::testing::{log_id, StoreBuilder, Suite};
use openraft::{EntryPayload, RaftSnapshotBuilder};
use server::raft::log_store::LogStore;
use server::raft::state_machine::StateMachine;
use server::raft::types::{Entry, StorageError, TypeConfig};
use server::raft::{Command, Event, Replicated, Reply};
use server::store::Store;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tempfile::TempDir;

/// A fresh store in a temporary directory.
async fn fresh() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("orchestrator.sqlite3")).await.unwrap();
    (dir, store)
}

/// The raft storage over `store`.
async fn storage(store: Store) -> Result<(Replicated, LogStore, StateMachine), StorageError> {
    let replicated = Replicated::new(store.clone());
    let log = LogStore::new(store).await?;
    let sm = StateMachine::new(replicated.clone()).await?;
    Ok((replicated, log, sm))
}

struct Builder;

impl StoreBuilder<TypeConfig, LogStore, StateMachine, TempDir> for Builder {
    async fn build(&self) -> Result<(TempDir, LogStore, StateMachine), StorageError> {
        // `Store::open_sqlite`'s future is not `Send` (sqlx's executor lifetimes), and this one
        // must be: open the store on this thread, blocking (the suite's runtime is multi-thread).
        let (dir, store) = tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(fresh()));
        let (_, log, sm) = storage(store).await?;
        Ok((dir, log, sm))
    }
}

#[test]
fn openraft_storage_suite() {
    Suite::test_all(Builder).unwrap();
}

#[tokio::test]
async fn a_snapshot_carries_applied_commands_to_another_node() {
    let (_d1, store1) = fresh().await;
    let (_d2, store2) = fresh().await;
    let (one, mut log1, mut sm1) = storage(store1).await.unwrap();
    let (two, _, mut sm2) = storage(store2).await.unwrap();
    let restored = Arc::new(AtomicBool::new(false));
    let flag = restored.clone();
    two.set_listener(Arc::new(move |e: Event<'_>| {
        if matches!(e, Event::Restored) {
            flag.store(true, Ordering::SeqCst);
        }
    }));

    let command = Command::SetClusterAlias { cluster: "db1:3306".into(), alias: "main".into(), at: chrono::Utc::now() };
    let entry = Entry { log_id: log_id(1, 1, 1), payload: EntryPayload::Normal(command) };
    assert_eq!(sm1.apply([entry]).await.unwrap(), vec![Reply::Done]);
    assert_eq!(one.store().cluster_aliases().await.unwrap()["db1:3306"], "main");
    assert_eq!(log1.get_log_state().await.unwrap().last_log_id, None, "applying does not write the log");

    let snapshot = sm1.get_snapshot_builder().await.build_snapshot().await.unwrap();
    assert_eq!(snapshot.meta.last_log_id, Some(log_id(1, 1, 1)));
    assert!(snapshot.meta.snapshot_id.starts_with("1-1-"), "{}", snapshot.meta.snapshot_id);
    let mut received = sm2.begin_receiving_snapshot().await.unwrap();
    *received = *snapshot.snapshot.clone();
    sm2.install_snapshot(&snapshot.meta, received).await.unwrap();

    assert_eq!(two.store().cluster_aliases().await.unwrap()["db1:3306"], "main");
    assert_eq!(sm2.applied_state().await.unwrap(), sm1.applied_state().await.unwrap());
    assert_eq!(sm2.get_current_snapshot().await.unwrap().unwrap().meta, snapshot.meta);
    assert_eq!(two.store().export_replicated().await.unwrap(), one.store().export_replicated().await.unwrap());
    assert!(restored.load(Ordering::SeqCst), "the node was told to reload");

    // A restarted state machine resumes from the saved pointers.
    let again = StateMachine::new(two.clone()).await.unwrap().applied_state().await.unwrap();
    assert_eq!(again, sm1.applied_state().await.unwrap());
}
