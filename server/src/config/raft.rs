//! Raft / high-availability keys (reference §3.5).

use super::secret::Secret;
use super::section::s;

config_section! {
    /// Raft consensus between orchestrator nodes.
    pub struct RaftConfig {
        /// Run as a raft node. When false every other raft key is ignored.
        "RaftEnabled" => raft_enabled: bool = false,
        /// This node's raft address, `host[:port]` (port defaults to `DefaultRaftPort`);
        /// must be set when raft is enabled.
        "RaftBind" => raft_bind: String = s("127.0.0.1:10008"),
        /// Address peers use to reach this node (behind NAT); empty means `RaftBind`
        /// (filled in at load).
        "RaftAdvertise" => raft_advertise: String = s(""),
        /// Directory for raft log and snapshots; must be set when raft is enabled.
        "RaftDataDir" => raft_data_dir: String = s(""),
        /// Port used for `RaftBind`, `RaftAdvertise` and `RaftNodes` entries that have none.
        "DefaultRaftPort" => default_raft_port: u16 = 10008,
        /// All raft nodes (this one included). Empty, or only this node, means single-node raft.
        "RaftNodes" => raft_nodes: Vec<String> = Vec::new(),
        /// `scheme://host:port` of this node's HTTP API as seen by peers, if it were leader;
        /// empty means computed from `RaftAdvertise`, `ListenAddress` and `UseSSL`.
        "HTTPAdvertise" => http_advertise: String = s(""),
        /// Ours: the shared cluster secret every raft request carries (the nodes authenticate
        /// each other with it). Required, at least 16 characters, when `RaftEnabled`; `${VAR}`
        /// is read from the environment at load. Masked in `Debug`, errors and `dump()`.
        "RaftSecret" => raft_secret: Secret = Secret::default(),
        /// Declared but unused by orchestrator (the consensus filter was never written).
        /// `false` draws a warning.
        "ExpectFailureAnalysisConcensus" => expect_failure_analysis_concensus: bool = true,
    }
}
