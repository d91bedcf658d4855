//! orchestrator's hard-coded timings (reference §3.7). They are not configurable there
//! either; keys that used to set some of them are accepted with a "has no effect" warning.

use std::time::Duration;

/// Interval of this node's health heartbeat.
pub const HEALTH_POLL: Duration = Duration::from_secs(1);
/// Interval of failure analysis and recovery checks (the removed `RecoveryPollSeconds`).
pub const RECOVERY_POLL: Duration = Duration::from_secs(1);
/// A node that has not renewed its active-node claim for this long loses it (shared backend).
pub const ACTIVE_NODE_EXPIRE: Duration = Duration::from_secs(5);
/// Length of a maintenance lock when none is given.
pub const MAINTENANCE_DEFAULT: Duration = Duration::from_secs(10 * 60);
/// Length of a downtime when none is given.
pub const DOWNTIME_DEFAULT: Duration = Duration::from_secs(10 * 60);
/// Downtime given to instances lost in a recovery (renewed while they stay lost).
pub const LOST_IN_RECOVERY_DOWNTIME: Duration = Duration::from_secs(365 * 24 * 3600);
/// Interval of raft followers' health reports to the leader.
pub const RAFT_HEALTH_POLL: Duration = Duration::from_secs(10);
/// Interval between raft snapshots.
pub const RAFT_SNAPSHOT_INTERVAL: Duration = Duration::from_secs(30 * 60);
/// Raft snapshots retained.
pub const RAFT_SNAPSHOTS_RETAINED: usize = 10;
/// Timeout of one raft apply.
pub const RAFT_APPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// Interval of the raft leader's heartbeat command.
pub const RAFT_LEADER_HEARTBEAT: Duration = Duration::from_secs(60);
/// Interval of re-publishing master discovery to raft followers.
pub const MASTER_DISCOVERY_REPUBLISH: Duration = Duration::from_secs(10 * 60);
/// Interval of caretaking jobs (expiry, forgetting).
pub const CARETAKING_INTERVAL: Duration = Duration::from_secs(60);
/// Interval of Pseudo-GTID injection when `AutoPseudoGTID` is on.
pub const PSEUDO_GTID_INJECTION_INTERVAL: Duration = Duration::from_secs(5);
/// Failure analysis starts only this many `InstancePollSeconds` after the service starts.
pub const ANALYSIS_START_DELAY_POLLS: u32 = 3;
/// An emergency re-read of one instance happens at most this often.
pub const EMERGENT_READ_MIN_INTERVAL: Duration = Duration::from_secs(1);
/// An emergency replication restart of one instance happens at most this often.
pub const EMERGENT_RESTART_MIN_INTERVAL: Duration = Duration::from_secs(30);
