//! The facts a rule tested, in words: the entry's `Inputs`. Only counts, names, durations and
//! settings appear; never a server's error text (it may name accounts) or SQL.

use super::tally::{Check, Tally};
use super::AnalysisSettings;
use app::model::analysis::ReplicationAnalysis;

/// One fact a rule may test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fact {
    /// Primary, co-master, intermediate primary, replica or group member.
    Role,
    /// Whether the last probe succeeded, and if not, how.
    Reachability,
    /// Whether the last failed probe still ran its first query.
    PartialSuccess,
    /// How many direct replicas.
    Replicas,
    /// How many replicas answer probes.
    ValidReplicas,
    /// How many reachable replicas replicate from it.
    Replicating,
    /// How many reachable replicas report they cannot connect to it.
    FailingToConnect,
    /// How many replicas lag beyond `ReasonableReplicationLagSeconds`.
    Lagging,
    /// How many replicas are delayed on purpose.
    Delayed,
    /// Semi-sync settings and connected semi-sync replicas.
    SemiSync,
    /// How long the binary log position has stood still.
    FrozenCoordinates,
    ReadOnly,
    Depth,
    /// Whether its own IO thread reaches its source.
    OwnConnection,
    BinlogServer,
    EnforceExactSemiSync,
    RecoverNonWriteable,
}

/// The tested facts in words, in the rule's order; "no failure rule matched" for NoProblem.
pub fn describe(t: &Tally<'_>, e: &ReplicationAnalysis, tested: &[Fact], settings: &AnalysisSettings) -> Vec<String> {
    let mut lines: Vec<String> = tested.iter().map(|f| fact(*f, t, e, settings)).collect();
    if e.analysis == app::model::analysis::AnalysisCode::NoProblem {
        lines.push("no failure rule matched".into());
    }
    lines
}

fn plural(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How replicas name the analyzed server.
fn noun(t: &Tally<'_>) -> &'static str {
    if t.is_co_master {
        "the co-master"
    } else if t.is_group_member {
        "the group member"
    } else if t.is_master {
        "the primary"
    } else {
        "the intermediate primary"
    }
}

fn fact(f: Fact, t: &Tally<'_>, e: &ReplicationAnalysis, s: &AnalysisSettings) -> String {
    let key = &e.analyzed_instance_key;
    let n = e.count_replicas;
    match f {
        Fact::Role => {
            let role = if t.is_co_master {
                "a co-master".to_string()
            } else if t.is_group_member {
                "a replication group member".to_string()
            } else if t.is_master {
                "a primary (it replicates from no one)".to_string()
            } else if n > 0 {
                format!("an intermediate primary (it replicates from {})", e.analyzed_instance_master_key)
            } else {
                format!("a replica of {}", e.analyzed_instance_master_key)
            };
            format!("{key} is {role}")
        }
        Fact::Reachability => match t.check {
            Check::Valid => "it answered its last probe".into(),
            Check::ProbeFailed { last_seen_ago: Some(ago) } => format!("its last probe failed (last answered {ago}s ago)"),
            Check::ProbeFailed { last_seen_ago: None } => "it has never answered a probe".into(),
            Check::Hanging { silent_for } => format!(
                "no probe of it has completed for {:.1}s (more than InstancePollSeconds + ReasonableInstanceCheckSeconds = {}s)",
                silent_for.num_milliseconds() as f64 / 1000.0,
                s.hang_limit().as_secs()
            ),
        },
        Fact::PartialSuccess => {
            if t.partial_success {
                "its last failed probe still ran its first query (LastCheckPartialSuccess)".into()
            } else {
                "no failed probe got a partial answer from it".into()
            }
        }
        Fact::Replicas => match n {
            0 => "it has no replicas".into(),
            _ => format!("it has {}", plural(n, "replica", "replicas")),
        },
        Fact::ValidReplicas => format!("{} of {} answer probes", e.count_valid_replicas, plural(n, "replica", "replicas")),
        Fact::Replicating => format!(
            "{} of {} replicate from it",
            e.count_valid_replicating_replicas,
            plural(e.count_valid_replicas, "reachable replica", "reachable replicas")
        ),
        Fact::FailingToConnect => format!(
            "{} of {} cannot connect to {}",
            e.count_replicas_failing_to_connect_to_master,
            plural(e.count_valid_replicas, "reachable replica", "reachable replicas"),
            noun(t)
        ),
        Fact::Lagging => format!(
            "{} of {} lag more than {}s (ReasonableReplicationLagSeconds)",
            e.count_lagging_replicas,
            plural(n, "replica", "replicas"),
            s.reasonable_replication_lag_seconds
        ),
        Fact::Delayed => format!("{} of {} are delayed on purpose (SQL_Delay)", e.count_delayed_replicas, plural(n, "replica", "replicas")),
        Fact::SemiSync => format!(
            "semi-sync primary {}, status {}, waits for {} with {} connected",
            if e.semi_sync_master_enabled { "enabled" } else { "disabled" },
            if e.semi_sync_master_status { "ON" } else { "OFF" },
            plural(e.semi_sync_master_wait_for_replica_count, "acknowledgement", "acknowledgements"),
            plural(e.semi_sync_master_clients, "semi-sync replica", "semi-sync replicas"),
        ),
        Fact::FrozenCoordinates => {
            let limit = s.reasonable_locked_semi_sync_master.as_secs();
            match t.frozen_for {
                Some(secs) => format!(
                    "its binlog position {} has not moved for {secs}s (ReasonableLockedSemiSyncMasterSeconds = {limit}s)",
                    e.binlog_coordinates
                ),
                None => format!("its binlog position {} has not been seen standing still yet", e.binlog_coordinates),
            }
        }
        Fact::ReadOnly => if e.is_read_only { "it is read_only" } else { "it is writable" }.into(),
        Fact::Depth => format!("it is at replication depth {}", e.replication_depth),
        Fact::OwnConnection => {
            if t.is_failing_to_connect {
                format!("its IO thread cannot connect to its source {}", e.analyzed_instance_master_key)
            } else {
                format!("its IO thread is not failing to connect to {}", e.analyzed_instance_master_key)
            }
        }
        Fact::BinlogServer => if t.is_binlog_server { "it is a binlog server" } else { "it is not a binlog server" }.into(),
        Fact::EnforceExactSemiSync => "EnforceExactSemiSyncReplicas is on".into(),
        Fact::RecoverNonWriteable => "RecoverNonWriteableMaster is on".into(),
    }
}
