//! The raft node: started on the node's store and its raft listener, initialised from
//! `RaftNodes`, and asked by the rest of the node who leads, whether it may act, and to commit.
//!
//! Node ids are hashes of advertised raft addresses, so every node builds the same initial
//! membership from the same list. A node whose log is empty initialises that membership; openraft
//! accepts the same initial entry on every node, and a node that rejoins with an empty data
//! directory is then brought up to date by the leader (entries, or a snapshot once the log is
//! compacted). A node whose address is not in `RaftNodes` waits to be added (`raft-add-peer`).
//!
//! A leader counts as one only while a quorum acknowledged it within an election timeout: a
//! leader cut off from the others stops recovering before the others elect a new one.

use super::log_store::LogStore;
use super::network::{self, Network};
use super::state_machine::StateMachine;
use super::types::{node_id, NodeId, Peer, Raft};
use super::{Command, Replicated, Reply, WriteError};
use openraft::error::{ClientWriteError, RaftError};
use openraft::{ChangeMembers, ServerState, SnapshotPolicy};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Heartbeats from the leader.
pub const HEARTBEAT: Duration = Duration::from_millis(100);
/// A follower that heard no heartbeat for a random time in this range starts an election. In
/// openraft 0.9 a follower also keeps its leader's lease (`ELECTION_MAX`) before it votes, so a
/// dead leader is replaced after 1.5-2 s; five heartbeats fit in the shortest timeout.
pub const ELECTION_MIN: Duration = Duration::from_millis(500);
pub const ELECTION_MAX: Duration = Duration::from_millis(1000);
/// How long a write waits for a quorum before it is refused.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// A snapshot every this many applied entries; the log before it is purged.
pub const SNAPSHOT_EVERY: u64 = 1000;

/// What the raft node takes from the configuration.
#[derive(Clone)]
pub struct RaftSettings {
    /// This node: its advertised raft address and HTTP API.
    pub me: Peer,
    /// `RaftBind`, as shown in `raft-status`.
    pub bind: String,
    /// Every node's advertised raft address (`RaftNodes`, normalised with `DefaultRaftPort`).
    pub nodes: Vec<String>,
    /// The cluster secret every raft request carries.
    pub secret: String,
}

impl std::fmt::Debug for RaftSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RaftSettings").field("me", &self.me).field("bind", &self.bind).field("nodes", &self.nodes).field("secret", &crate::config::MASK).finish()
    }
}

/// Why the raft node did not start.
#[derive(Debug, thiserror::Error)]
pub enum RaftStartError {
    #[error("raft storage: {0}")]
    Storage(String),
    #[error("raft: {0}")]
    Raft(String),
}

struct Inner {
    raft: Raft,
    settings: RaftSettings,
    id: NodeId,
    client: reqwest::Client,
    /// Leader id → its HTTP API (asked of the leader's raft endpoint once).
    leader_api: Mutex<Option<(NodeId, String)>>,
    /// Test fail point: cuts this node's raft traffic both ways.
    isolated: Arc<AtomicBool>,
}

/// Handle to the running raft node; cheap to clone.
#[derive(Clone)]
pub struct Consensus {
    inner: Arc<Inner>,
}

/// `/api/raft-status`: orchestrator's fields, then ours.
#[derive(Clone, Debug, Serialize)]
pub struct RaftStatus {
    #[serde(rename = "RaftBind")]
    pub raft_bind: String,
    #[serde(rename = "RaftAdvertise")]
    pub raft_advertise: String,
    /// `Leader`, `Follower`, `Candidate` or `Learner`.
    #[serde(rename = "State")]
    pub state: String,
    #[serde(rename = "Healthy")]
    pub healthy: bool,
    #[serde(rename = "IsPartOfQuorum")]
    pub is_part_of_quorum: bool,
    /// The leader's raft address; empty when none is known.
    #[serde(rename = "Leader")]
    pub leader: String,
    #[serde(rename = "LeaderURI")]
    pub leader_uri: String,
    /// Every voter's raft address.
    #[serde(rename = "Peers")]
    pub peers: Vec<String>,
    #[serde(rename = "NodeId")]
    pub node_id: String,
    #[serde(rename = "Term")]
    pub term: u64,
    #[serde(rename = "LastLogIndex")]
    pub last_log_index: u64,
    #[serde(rename = "LastApplied")]
    pub last_applied: u64,
    #[serde(rename = "SnapshotIndex")]
    pub snapshot_index: Option<u64>,
    /// Milliseconds since a quorum last acknowledged this leader.
    #[serde(rename = "MillisSinceQuorumAck", skip_serializing_if = "Option::is_none")]
    pub millis_since_quorum_ack: Option<u64>,
}

impl Consensus {
    /// Starts the raft node on `replicated`'s store, serves raft RPCs on `listener` until
    /// `cancel`, and initialises the cluster when this node's log is empty.
    pub async fn start(settings: RaftSettings, replicated: Replicated, listener: TcpListener, cancel: CancellationToken) -> Result<Consensus, RaftStartError> {
        let config = openraft::Config {
            cluster_name: "orchestrator".into(),
            heartbeat_interval: HEARTBEAT.as_millis() as u64,
            election_timeout_min: ELECTION_MIN.as_millis() as u64,
            election_timeout_max: ELECTION_MAX.as_millis() as u64,
            install_snapshot_timeout: 10_000,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(SNAPSHOT_EVERY),
            // The log before a snapshot is purged whole: a node that is behind it (one that
            // rejoins with an empty data directory) is sent the snapshot, which is small.
            max_in_snapshot_log_to_keep: 0,
            ..Default::default()
        }
        .validate()
        .map_err(|e| RaftStartError::Raft(e.to_string()))?;
        let id = node_id(&settings.me.raft);
        let isolated = Arc::new(AtomicBool::new(false));
        let log = LogStore::new(replicated.store().clone()).await.map_err(|e| RaftStartError::Storage(e.to_string()))?;
        let sm = StateMachine::new(replicated.clone()).await.map_err(|e| RaftStartError::Storage(e.to_string()))?;
        let net = Network::new(&settings.secret, isolated.clone());
        let raft = Raft::new(id, Arc::new(config), net, log, sm).await.map_err(|e| RaftStartError::Raft(e.to_string()))?;

        let router = network::router(raft.clone(), &settings.secret, settings.me.clone(), isolated.clone());
        let stop = cancel.clone();
        tokio::spawn(async move {
            let served = axum::serve(listener, router).with_graceful_shutdown(async move { stop.cancelled().await }).await;
            if let Err(e) = served {
                tracing::error!(error = %e, "raft listener failed");
            }
        });
        let on_stop = raft.clone();
        tokio::spawn(async move {
            cancel.cancelled().await;
            let _ = on_stop.shutdown().await;
        });

        let members = initial_members(&settings);
        if members.contains_key(&id) && !raft.is_initialized().await.map_err(|e| RaftStartError::Raft(e.to_string()))? {
            match raft.initialize(members).await {
                Ok(()) => tracing::info!(node = %settings.me.raft, "raft cluster initialised"),
                // Another start already wrote the membership: nothing to do.
                Err(RaftError::APIError(e)) => tracing::info!(error = %e, "raft membership already initialised"),
                Err(e) => return Err(RaftStartError::Raft(e.to_string())),
            }
        } else if !members.contains_key(&id) {
            tracing::warn!(node = %settings.me.raft, "this node is not in RaftNodes: waiting to be added with raft-add-peer");
        }
        let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).no_proxy().build().map_err(|e| RaftStartError::Raft(e.to_string()))?;
        Ok(Consensus { inner: Arc::new(Inner { raft, settings, id, client, leader_api: Mutex::new(None), isolated }) })
    }

    pub fn raft(&self) -> &Raft {
        &self.inner.raft
    }

    pub fn id(&self) -> NodeId {
        self.inner.id
    }

    pub fn me(&self) -> &Peer {
        &self.inner.settings.me
    }

    /// Leader, and acknowledged by a quorum within the last election timeout.
    pub fn is_leader(&self) -> bool {
        let m = self.inner.raft.metrics().borrow().clone();
        if m.state != ServerState::Leader {
            return false;
        }
        let voters = m.membership_config.membership().voter_ids().count();
        voters <= 1 || m.millis_since_quorum_ack.is_some_and(|ms| ms < ELECTION_MIN.as_millis() as u64)
    }

    /// The leader this node knows of: its id and raft address.
    pub fn leader(&self) -> Option<(NodeId, Peer)> {
        let m = self.inner.raft.metrics().borrow().clone();
        let id = m.current_leader?;
        let peer = m.membership_config.nodes().find(|(n, _)| **n == id).map(|(_, p)| p.clone())?;
        Some((id, peer))
    }

    /// The leader's HTTP API, where writes are forwarded; asked of the leader once per leader.
    pub async fn leader_api(&self) -> Option<String> {
        let (id, peer) = self.leader()?;
        if id == self.inner.id {
            return Some(self.inner.settings.me.api.clone());
        }
        if let Some((known, api)) = self.inner.leader_api.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            if known == id {
                return Some(api);
            }
        }
        let api = if peer.api.is_empty() {
            network::whoami(&self.inner.client, &peer.raft, &self.inner.settings.secret).await.ok()?.1.api
        } else {
            peer.api
        };
        *self.inner.leader_api.lock().unwrap_or_else(|p| p.into_inner()) = Some((id, api.clone()));
        Some(api)
    }

    /// Commits `command` (leader only) and returns this node's answer to it.
    pub async fn write(&self, command: Command) -> Result<Reply, WriteError> {
        match tokio::time::timeout(WRITE_TIMEOUT, self.inner.raft.client_write(command)).await {
            Ok(Ok(resp)) => Ok(resp.data),
            Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f)))) => Err(WriteError::NotLeader { leader: f.leader_node }),
            Ok(Err(e)) => Err(WriteError::Raft(e.to_string())),
            Err(_) => Err(WriteError::Raft(format!("no quorum committed the write within {} s", WRITE_TIMEOUT.as_secs()))),
        }
    }

    /// The state as orchestrator's `/api/raft-state` names it.
    pub fn state_name(&self) -> &'static str {
        let state = self.inner.raft.metrics().borrow().state;
        match state {
            ServerState::Leader if !self.is_leader() => "Candidate",
            ServerState::Leader => "Leader",
            ServerState::Follower => "Follower",
            ServerState::Candidate => "Candidate",
            ServerState::Learner => "Learner",
            ServerState::Shutdown => "Shutdown",
        }
    }

    /// Healthy: a leader or a follower that knows its leader (orchestrator's definition plus
    /// the quorum: a cut-off node is not healthy).
    pub fn is_healthy(&self) -> bool {
        let m = self.inner.raft.metrics().borrow().clone();
        match m.state {
            ServerState::Leader => self.is_leader(),
            ServerState::Follower => m.current_leader.is_some(),
            _ => false,
        }
    }

    pub async fn status(&self) -> RaftStatus {
        let m = self.inner.raft.metrics().borrow().clone();
        let leader = self.leader();
        let leader_uri = if leader.is_some() { self.leader_api().await.unwrap_or_default() } else { String::new() };
        let mut peers: Vec<String> = m.membership_config.nodes().filter(|(id, _)| m.membership_config.membership().voter_ids().any(|v| v == **id)).map(|(_, p)| p.raft.clone()).collect();
        peers.sort();
        RaftStatus {
            raft_bind: self.inner.settings.bind.clone(),
            raft_advertise: self.inner.settings.me.raft.clone(),
            state: self.state_name().to_string(),
            healthy: self.is_healthy(),
            is_part_of_quorum: self.is_healthy(),
            leader: leader.map(|(_, p)| p.raft).unwrap_or_default(),
            leader_uri,
            peers,
            node_id: format!("{:016x}", self.inner.id),
            term: m.current_term,
            last_log_index: m.last_log_index.unwrap_or_default(),
            last_applied: m.last_applied.map(|l| l.index).unwrap_or_default(),
            snapshot_index: m.snapshot.map(|l| l.index),
            millis_since_quorum_ack: m.millis_since_quorum_ack,
        }
    }

    /// `raft-add-peer`: asks the node at `addr` who it is, adds it as a learner (it catches up),
    /// then makes it a voter. Leader only.
    pub async fn add_peer(&self, addr: &str) -> Result<Peer, WriteError> {
        let (id, peer) = network::whoami(&self.inner.client, addr, &self.inner.settings.secret).await.map_err(WriteError::Raft)?;
        let raft = &self.inner.raft;
        raft.add_learner(id, peer.clone(), true).await.map_err(membership_error)?;
        raft.change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([id])), false).await.map_err(membership_error)?;
        Ok(peer)
    }

    /// `raft-remove-peer`: removes the node advertised at `addr` from the voters. Leader only.
    pub async fn remove_peer(&self, addr: &str) -> Result<(), WriteError> {
        let id = node_id(addr);
        self.inner
            .raft
            .change_membership(ChangeMembers::RemoveVoters(BTreeSet::from([id])), false)
            .await
            .map_err(membership_error)?;
        Ok(())
    }

    /// `raft-elect-leader`: asks every voter to step aside for a while, and the node at
    /// `target` to stand; returns once it leads, or fails after the window.
    pub async fn elect(&self, target: &str) -> Result<(), WriteError> {
        if !self.is_peer(target) {
            return Err(WriteError::Apply(format!("{target} is not a raft peer")));
        }
        let to = node_id(target);
        let req = network::YieldRequest { to, millis: YIELD_WINDOW.as_millis() as u64 };
        let peers: Vec<Peer> = self.inner.raft.metrics().borrow().membership_config.nodes().map(|(_, p)| p.clone()).collect();
        let mut failures = Vec::new();
        for peer in peers {
            if node_id(&peer.raft) == self.inner.id {
                step_aside(self.inner.raft.clone(), to, YIELD_WINDOW);
            } else if let Err(e) = network::ask_to_yield(&self.inner.client, &peer.raft, &self.inner.settings.secret, &req).await {
                failures.push(e);
            }
        }
        let deadline = tokio::time::Instant::now() + YIELD_WINDOW + ELECTION_MAX;
        while tokio::time::Instant::now() < deadline {
            if self.leader().is_some_and(|(id, _)| id == to) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(WriteError::Raft(format!("{target} was not elected within {} s{}", (YIELD_WINDOW + ELECTION_MAX).as_secs(), if failures.is_empty() { String::new() } else { format!(" (not reached: {})", failures.join("; ")) })))
    }

    /// Whether `addr` is one of the voters.
    pub fn is_peer(&self, addr: &str) -> bool {
        let id = node_id(addr);
        self.inner.raft.metrics().borrow().membership_config.membership().voter_ids().any(|v| v == id)
    }

    /// Test fail point: cuts (or restores) this node's raft traffic both ways.
    pub fn set_isolated(&self, on: bool) {
        self.inner.isolated.store(on, std::sync::atomic::Ordering::SeqCst);
    }
}

/// How long the other nodes hold back while `raft-elect-leader` elects its node.
pub const YIELD_WINDOW: Duration = Duration::from_secs(5);

/// This node's part in electing `to`: any other node stops sending heartbeats and starting
/// elections for `window` (so the followers' leader lease expires and they vote for `to`);
/// `to` itself stands for election until it leads or `window` ends.
pub fn step_aside(raft: Raft, to: NodeId, window: Duration) {
    tokio::spawn(async move {
        let me = raft.metrics().borrow().id;
        let deadline = tokio::time::Instant::now() + window;
        if me != to {
            raft.runtime_config().elect(false);
            raft.runtime_config().heartbeat(false);
            tokio::time::sleep_until(deadline).await;
            raft.runtime_config().heartbeat(true);
            raft.runtime_config().elect(true);
            return;
        }
        while tokio::time::Instant::now() < deadline {
            if raft.metrics().borrow().current_leader == Some(me) {
                return;
            }
            if raft.trigger().elect().await.is_err() {
                return;
            }
            tokio::time::sleep(HEARTBEAT * 2).await;
        }
    });
}

fn membership_error(e: RaftError<NodeId, ClientWriteError<NodeId, Peer>>) -> WriteError {
    match e {
        RaftError::APIError(ClientWriteError::ForwardToLeader(f)) => WriteError::NotLeader { leader: f.leader_node },
        e => WriteError::Raft(e.to_string()),
    }
}

/// The membership `RaftNodes` describes. It must be the same entry on every node (each may
/// write it), so it carries raft addresses only: HTTP APIs are asked of the nodes themselves.
fn initial_members(settings: &RaftSettings) -> BTreeMap<NodeId, Peer> {
    let mut nodes = settings.nodes.clone();
    if nodes.is_empty() {
        nodes.push(settings.me.raft.clone());
    }
    nodes.into_iter().map(|raft| (node_id(&raft), Peer { raft: raft.to_ascii_lowercase(), api: String::new() })).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_raft_nodes_mean_a_single_node_cluster() {
        let s = RaftSettings { me: Peer { raft: "a:10008".into(), api: "http://a:3000".into() }, bind: "a:10008".into(), nodes: vec![], secret: "s".into() };
        let m = initial_members(&s);
        assert_eq!(m.len(), 1);
        assert_eq!(m[&node_id("a:10008")].raft, "a:10008");
    }

    #[test]
    fn every_node_builds_the_same_ids() {
        let nodes = vec!["a:1".to_string(), "b:1".to_string(), "c:1".to_string()];
        let one = RaftSettings { me: Peer { raft: "a:1".into(), api: "x".into() }, bind: String::new(), nodes: nodes.clone(), secret: String::new() };
        let two = RaftSettings { me: Peer { raft: "b:1".into(), api: "y".into() }, bind: String::new(), nodes, secret: String::new() };
        let ids = |s: &RaftSettings| initial_members(s).keys().copied().collect::<Vec<_>>();
        assert_eq!(initial_members(&one), initial_members(&two), "each node may write the initial membership: it must be one entry");
        assert_eq!(ids(&one).len(), 3);
    }
}
