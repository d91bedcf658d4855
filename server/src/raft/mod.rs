//! Replicated state: the one write path for everything that must survive a node (operator
//! intents, aliases, discover/forget, recovery records, detections, acknowledgements, switches),
//! carried by openraft between the nodes of a cluster when `RaftEnabled`, applied at once to the
//! node's own store otherwise.
//!
//! Every node applies committed commands in log order to its own store (`command::apply`), then
//! tells the node's in-memory views (`Listener`): intents reload their set, discovery starts or
//! stops probing. Every node discovers and analyses on its own; only the leader recovers.
//!
//! # Layout
//! - `types`:         openraft's type configuration, node ids, `Peer`.
//! - `command`:       `Command` (every replicated change), `Reply`, `apply` to a store.
//! - `log_store`:     the raft log, vote and committed index in the node's SQLite store.
//! - `state_machine`: applies entries through `Replicated::apply_committed`; snapshots are the
//!   replicated tables as JSON.
//! - `network`:       raft RPCs over HTTP between nodes, each carrying the cluster secret.
//! - `consensus`:     starting the raft node, the initial membership, status, membership changes.
//! - here:            `Replicated`, the handle the rest of the node writes through.

pub mod command;
pub mod consensus;
pub mod log_store;
pub mod network;
pub mod state_machine;
pub mod types;

pub use command::{Command, Reply};
pub use consensus::Consensus;
pub use types::{NodeId, Peer};

use crate::store::{Store, StoreError};
use std::sync::{Arc, OnceLock, RwLock};

/// What a node's in-memory views hear from the replicated state.
pub enum Event<'a> {
    /// A command was applied to the store.
    Applied(&'a Command),
    /// The replicated tables were replaced by a snapshot: reload everything.
    Restored,
}

/// Called after each applied command or installed snapshot, synchronously (so that when a write
/// returns, the writer's node already shows it). Must not write replicated state itself.
pub type Listener = Arc<dyn Fn(Event<'_>) + Send + Sync>;

/// Why a replicated write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// This node is not the raft leader; the HTTP layer forwards writes to `leader`.
    #[error("this node is not the raft leader{}", .leader.as_ref().map(|l| format!(" (the leader is {})", l.raft)).unwrap_or_else(|| "; no leader is known".into()))]
    NotLeader { leader: Option<Peer> },
    /// Refused before anything was written (not a raft peer, ...).
    #[error("{0}")]
    Apply(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    /// Raft could not commit it (no quorum, shutting down).
    #[error("raft: {0}")]
    Raft(String),
}

struct Inner {
    store: Store,
    listener: RwLock<Option<Listener>>,
    /// Set once when raft runs; unset, writes apply at once.
    consensus: OnceLock<Consensus>,
    /// Raft is configured: until `attach`, nothing may be written and no one leads.
    expects_raft: bool,
    /// Without raft: one write at a time, like the log's order.
    local: tokio::sync::Mutex<()>,
}

/// The handle every writer of replicated state goes through; cheap to clone.
#[derive(Clone)]
pub struct Replicated {
    inner: Arc<Inner>,
}

impl Replicated {
    /// Replicated state on `store` without raft: writes apply at once.
    pub fn new(store: Store) -> Replicated {
        Replicated::with(store, false)
    }

    /// Replicated state on `store` that waits for `attach`: until then writes are refused and
    /// this node does not lead.
    pub fn for_raft(store: Store) -> Replicated {
        Replicated::with(store, true)
    }

    fn with(store: Store, expects_raft: bool) -> Replicated {
        let inner = Inner { store, listener: RwLock::new(None), consensus: OnceLock::new(), expects_raft, local: Default::default() };
        Replicated { inner: Arc::new(inner) }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// From now on writes go through raft.
    pub fn attach(&self, consensus: Consensus) {
        let _ = self.inner.consensus.set(consensus);
    }

    /// The raft node, when raft runs.
    pub fn consensus(&self) -> Option<&Consensus> {
        self.inner.consensus.get()
    }

    pub fn set_listener(&self, listener: Listener) {
        *self.inner.listener.write().unwrap_or_else(|p| p.into_inner()) = Some(listener);
    }

    /// True when this node may act for the cluster: always without raft, else only while it is
    /// the leader.
    pub fn is_leader(&self) -> bool {
        self.consensus().map(|c| c.is_leader()).unwrap_or(!self.inner.expects_raft)
    }

    /// Writes `command`: through raft (only the leader can; others get `NotLeader`), else at once.
    /// Returns once the command is applied on this node.
    pub async fn write(&self, command: Command) -> Result<Reply, WriteError> {
        match self.consensus() {
            Some(c) => c.write(command).await,
            None if self.inner.expects_raft => Err(WriteError::NotLeader { leader: None }),
            None => {
                let _one = self.inner.local.lock().await;
                Ok(self.apply_committed(&command).await?)
            }
        }
    }

    /// Applies a committed command to the store, then tells the listener. A store that cannot
    /// apply it fails the call: raft then stops this node (fail-stop) rather than let its tables
    /// drift from the others' without anyone noticing.
    pub async fn apply_committed(&self, command: &Command) -> Result<Reply, StoreError> {
        let reply = command::apply(&self.inner.store, command).await.inspect_err(|e| {
            tracing::error!(command = command.name(), error = %e, "a replicated command could not be applied to this node's store");
        })?;
        self.notify(Event::Applied(command));
        Ok(reply)
    }

    /// Tells the listener; used by the state machine after installing a snapshot.
    pub fn notify(&self, event: Event<'_>) {
        let listener = self.inner.listener.read().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(l) = listener {
            l(event);
        }
    }
}
