//! openraft's type configuration: what a log entry carries (`Command`), what applying one
//! answers (`Reply`), and how a node is named (`NodeId`, `Peer`).

use super::command::{Command, Reply};
use serde::{Deserialize, Serialize};
use std::io::Cursor;

/// A node's raft id: a stable hash of its advertised raft address (see `node_id`), so that every
/// node computes the same ids from the same `RaftNodes` list without asking anyone.
pub type NodeId = u64;

/// What the cluster knows about one node: where its raft endpoints and its HTTP API are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peer {
    /// `host:port` of the raft listener (`RaftAdvertise`).
    pub raft: String,
    /// `scheme://host:port` of the HTTP API (`HTTPAdvertise`), where followers forward writes.
    pub api: String,
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.raft, self.api)
    }
}

openraft::declare_raft_types!(
    /// The node's raft types.
    pub TypeConfig:
        D = Command,
        R = Reply,
        NodeId = NodeId,
        Node = Peer,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

pub type Raft = openraft::Raft<TypeConfig>;
pub type Entry = openraft::Entry<TypeConfig>;
pub type LogId = openraft::LogId<NodeId>;
pub type Vote = openraft::Vote<NodeId>;
pub type StoredMembership = openraft::StoredMembership<NodeId, Peer>;
pub type Snapshot = openraft::Snapshot<TypeConfig>;
pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, Peer>;
pub type StorageError = openraft::StorageError<NodeId>;

/// The id of the node advertised at `raft_addr` (`host:port`): FNV-1a of the address, never 0.
pub fn node_id(raft_addr: &str) -> NodeId {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in raft_addr.trim().to_ascii_lowercase().bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_case_blind() {
        assert_eq!(node_id("Node1:10008"), node_id("node1:10008"));
        assert_ne!(node_id("node1:10008"), node_id("node2:10008"));
    }
}
