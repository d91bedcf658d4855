//! The classic failure codes (async and semi-sync replication), one rule each, in the order
//! orchestrator tries them (reference §4.2, `analysis_dao.go`): the first rule that matches
//! gives the code. Conditions and descriptions are orchestrator's, word for word.
//!
//! Decisions where orchestrator's behaviour is questionable:
//! - `DeadMaster` asks that no replica replicates, not that every replica reports a connection
//!   error: replicas stopped by hand count as agreeing the primary is dead. Kept for parity
//!   (orchestrator's `analysis-dead-master` fixture stops the IO threads without an error), but
//!   the entry's `CountReplicasFailingToConnectToMaster` and `Inputs` say how many replicas
//!   actively report losing it, for the planner and for operators.
//! - `LastCheckPartialSuccess` is not recorded by discovery yet, so the partial-success rule
//!   (#7) can only match in tests, and #6 decides every unreachable primary with replicas.
//! - Co-master and intermediate-primary rules apply to any server that is not a primary, in
//!   orchestrator's order, so an unreachable co-master whose replicas all lag falls through to
//!   `UnreachableIntermediateMasterWithLaggingReplicas`, as in orchestrator.

use super::reasons::Fact;
use super::tally::Tally;
use super::AnalysisSettings;
use app::model::analysis::AnalysisCode::{self, *};

/// A code, orchestrator's description of it, and the facts its rule tested.
#[derive(Clone, Copy, Debug)]
pub struct Verdict {
    pub code: AnalysisCode,
    pub description: &'static str,
    pub tested: &'static [Fact],
}

struct Rule {
    code: AnalysisCode,
    description: &'static str,
    tested: &'static [Fact],
    applies: fn(&Tally<'_>, &AnalysisSettings) -> bool,
}

use Fact::*;

const DEAD: &[Fact] = &[Role, Reachability, Replicas, ValidReplicas, Replicating];
const UNREACHABLE_LAGGING: &[Fact] = &[Role, Reachability, Replicas, Lagging, Delayed, Replicating];
const UNREACHABLE: &[Fact] = &[Role, Reachability, PartialSuccess, ValidReplicas, Replicating];
const SEMI_SYNC: &[Fact] = &[Role, SemiSync, FrozenCoordinates];
const REACHABLE_REPLICAS: &[Fact] = &[Role, Reachability, Replicas, ValidReplicas, Replicating];

/// The classic rules, in orchestrator's order.
static RULES: &[Rule] = &[
    Rule {
        code: DeadMasterWithoutReplicas,
        description: "Master cannot be reached by orchestrator and has no replica",
        tested: &[Role, Reachability, Replicas],
        applies: |t, _| t.is_master && !t.last_check_valid() && t.count_replicas() == 0,
    },
    Rule {
        code: DeadMaster,
        description: "Master cannot be reached by orchestrator and none of its replicas is replicating",
        tested: &[Role, Reachability, Replicas, ValidReplicas, Replicating, FailingToConnect],
        applies: |t, _| t.is_master && !t.last_check_valid() && t.count_valid == t.count_replicas() && t.count_replicating == 0,
    },
    Rule {
        code: DeadMasterAndReplicas,
        description: "Master cannot be reached by orchestrator and none of its replicas is replicating",
        tested: DEAD,
        applies: |t, _| t.is_master && !t.last_check_valid() && t.count_replicas() > 0 && t.count_valid == 0 && t.count_replicating == 0,
    },
    Rule {
        code: DeadMasterAndSomeReplicas,
        description: "Master cannot be reached by orchestrator; some of its replicas are unreachable and none of its reachable replicas is replicating",
        tested: &[Role, Reachability, Replicas, ValidReplicas, Replicating, FailingToConnect],
        applies: |t, _| {
            t.is_master && !t.last_check_valid() && t.count_valid < t.count_replicas() && t.count_valid > 0 && t.count_replicating == 0
        },
    },
    Rule {
        code: UnreachableMasterWithLaggingReplicas,
        description: "Master cannot be reached by orchestrator and all of its replicas are lagging",
        tested: UNREACHABLE_LAGGING,
        applies: |t, _| {
            t.is_master
                && !t.last_check_valid()
                && t.count_lagging == t.count_replicas()
                && t.count_delayed < t.count_replicas()
                && t.count_replicating > 0
        },
    },
    Rule {
        code: UnreachableMaster,
        description: "Master cannot be reached by orchestrator but it has replicating replicas; possibly a network/host issue",
        tested: UNREACHABLE,
        applies: |t, _| t.is_master && !t.last_check_valid() && !t.partial_success && t.count_valid > 0 && t.count_replicating > 0,
    },
    Rule {
        code: UnreachableMaster,
        description: "Master cannot be reached by orchestrator but it has replicating replicas; possibly a network/host issue",
        tested: &[Role, Reachability, PartialSuccess, FailingToConnect, ValidReplicas, Replicating],
        applies: |t, _| {
            t.is_master
                && !t.last_check_valid()
                && t.partial_success
                && t.count_failing_to_connect > 0
                && t.count_valid > 0
                && t.count_replicating > 0
        },
    },
    Rule {
        code: LockedSemiSyncMaster,
        description: "Semi sync master is locked since it doesn't get enough replica acknowledgements",
        tested: SEMI_SYNC,
        applies: |t, _| semi_sync_locked(t) && t.stale_coordinates,
    },
    Rule {
        code: LockedSemiSyncMasterHypothesis,
        description: "Semi sync master seems to be locked, more samplings needed to validate",
        tested: SEMI_SYNC,
        applies: |t, _| semi_sync_locked(t) && !t.stale_coordinates,
    },
    Rule {
        code: MasterWithTooManySemiSyncReplicas,
        description: "Semi sync master has more semi sync replicas than configured",
        tested: &[EnforceExactSemiSync, Role, SemiSync],
        applies: |t, s| {
            let i = t.instance;
            s.enforce_exact_semi_sync_replicas
                && t.is_master
                && i.semi_sync_master_enabled
                && i.semi_sync_master_status
                && i.semi_sync_master_wait_for_replica_count > 0
                && i.semi_sync_master_clients > i.semi_sync_master_wait_for_replica_count
        },
    },
    Rule {
        code: NoWriteableMasterStructureWarning,
        description: "Master with replicas is read_only",
        tested: &[RecoverNonWriteable, Role, Reachability, ReadOnly, Replicating],
        applies: |t, s| t.is_master && t.last_check_valid() && t.instance.read_only && t.count_replicating > 0 && s.recover_non_writeable_master,
    },
    Rule {
        code: MasterSingleReplicaNotReplicating,
        description: "Master is reachable but its single replica is not replicating",
        tested: REACHABLE_REPLICAS,
        applies: |t, _| {
            t.is_master && t.last_check_valid() && t.count_replicas() == 1 && t.count_valid == t.count_replicas() && t.count_replicating == 0
        },
    },
    Rule {
        code: MasterSingleReplicaDead,
        description: "Master is reachable but its single replica is dead",
        tested: &[Role, Reachability, Replicas, ValidReplicas],
        applies: |t, _| t.is_master && t.last_check_valid() && t.count_replicas() == 1 && t.count_valid == 0,
    },
    Rule {
        code: AllMasterReplicasNotReplicating,
        description: "Master is reachable but none of its replicas is replicating",
        tested: REACHABLE_REPLICAS,
        applies: |t, _| {
            t.is_master && t.last_check_valid() && t.count_replicas() > 1 && t.count_valid == t.count_replicas() && t.count_replicating == 0
        },
    },
    Rule {
        code: AllMasterReplicasNotReplicatingOrDead,
        description: "Master is reachable but none of its replicas is replicating",
        tested: REACHABLE_REPLICAS,
        applies: |t, _| {
            t.is_master
                && t.last_check_valid()
                && t.count_replicas() > 1
                && t.count_valid < t.count_replicas()
                && t.count_valid > 0
                && t.count_replicating == 0
        },
    },
    Rule {
        code: DeadCoMaster,
        description: "Co-master cannot be reached by orchestrator and none of its replicas is replicating",
        tested: &[Role, Reachability, Replicas, ValidReplicas, Replicating, FailingToConnect],
        applies: |t, _| {
            t.is_co_master && !t.last_check_valid() && t.count_replicas() > 0 && t.count_valid == t.count_replicas() && t.count_replicating == 0
        },
    },
    Rule {
        code: DeadCoMasterAndSomeReplicas,
        description: "Co-master cannot be reached by orchestrator; some of its replicas are unreachable and none of its reachable replicas is replicating",
        tested: &[Role, Reachability, Replicas, ValidReplicas, Replicating, FailingToConnect],
        applies: |t, _| {
            t.is_co_master
                && !t.last_check_valid()
                && t.count_replicas() > 0
                && t.count_valid < t.count_replicas()
                && t.count_valid > 0
                && t.count_replicating == 0
        },
    },
    Rule {
        code: UnreachableCoMaster,
        description: "Co-master cannot be reached by orchestrator but it has replicating replicas; possibly a network/host issue",
        tested: UNREACHABLE,
        applies: |t, _| t.is_co_master && !t.last_check_valid() && !t.partial_success && t.count_valid > 0 && t.count_replicating > 0,
    },
    Rule {
        code: AllCoMasterReplicasNotReplicating,
        description: "Co-master is reachable but none of its replicas is replicating",
        tested: REACHABLE_REPLICAS,
        applies: |t, _| t.is_co_master && t.last_check_valid() && t.count_replicas() > 0 && t.count_replicating == 0,
    },
    Rule {
        code: DeadIntermediateMasterWithSingleReplicaFailingToConnect,
        description: "Intermediate master cannot be reached by orchestrator and its (single) replica is failing to connect",
        tested: &[Role, Reachability, Replicas, ValidReplicas, FailingToConnect, Replicating],
        applies: |t, _| {
            !t.is_master
                && !t.last_check_valid()
                && t.count_replicas() == 1
                && t.count_valid == t.count_replicas()
                && t.count_failing_to_connect == t.count_replicas()
                && t.count_replicating == 0
        },
    },
    Rule {
        code: DeadIntermediateMasterWithSingleReplica,
        description: "Intermediate master cannot be reached by orchestrator and its (single) replica is not replicating",
        tested: DEAD,
        applies: |t, _| {
            !t.is_master && !t.last_check_valid() && t.count_replicas() == 1 && t.count_valid == t.count_replicas() && t.count_replicating == 0
        },
    },
    Rule {
        code: DeadIntermediateMaster,
        description: "Intermediate master cannot be reached by orchestrator and none of its replicas is replicating",
        tested: &[Role, Reachability, Replicas, ValidReplicas, Replicating, FailingToConnect],
        applies: |t, _| {
            !t.is_master && !t.last_check_valid() && t.count_replicas() > 1 && t.count_valid == t.count_replicas() && t.count_replicating == 0
        },
    },
    Rule {
        code: DeadIntermediateMasterAndSomeReplicas,
        description: "Intermediate master cannot be reached by orchestrator; some of its replicas are unreachable and none of its reachable replicas is replicating",
        tested: &[Role, Reachability, Replicas, ValidReplicas, Replicating, FailingToConnect],
        applies: |t, _| {
            !t.is_master && !t.last_check_valid() && t.count_valid < t.count_replicas() && t.count_valid > 0 && t.count_replicating == 0
        },
    },
    Rule {
        code: DeadIntermediateMasterAndReplicas,
        description: "Intermediate master cannot be reached by orchestrator and all of its replicas are unreachable",
        tested: &[Role, Reachability, Replicas, ValidReplicas],
        applies: |t, _| !t.is_master && !t.last_check_valid() && t.count_replicas() > 0 && t.count_valid == 0,
    },
    Rule {
        code: UnreachableIntermediateMasterWithLaggingReplicas,
        description: "Intermediate master cannot be reached by orchestrator and all of its replicas are lagging",
        tested: UNREACHABLE_LAGGING,
        applies: |t, _| {
            !t.is_master
                && !t.last_check_valid()
                && t.count_lagging == t.count_replicas()
                && t.count_delayed < t.count_replicas()
                && t.count_replicating > 0
        },
    },
    Rule {
        code: UnreachableIntermediateMaster,
        description: "Intermediate master cannot be reached by orchestrator but it has replicating replicas; possibly a network/host issue",
        tested: UNREACHABLE,
        applies: |t, _| !t.is_master && !t.last_check_valid() && !t.partial_success && t.count_valid > 0 && t.count_replicating > 0,
    },
    Rule {
        code: AllIntermediateMasterReplicasFailingToConnectOrDead,
        description: "Intermediate master is reachable but all of its replicas are failing to connect",
        tested: &[Role, Reachability, Replicas, ValidReplicas, Replicating, FailingToConnect],
        // At least two replicas: with the intermediate primary reachable, the conclusion rests
        // on the replicas alone.
        applies: |t, _| {
            !t.is_master
                && t.last_check_valid()
                && t.count_replicas() > 1
                && t.count_replicating == 0
                && t.count_failing_to_connect > 0
                && t.count_failing_to_connect == t.count_valid
        },
    },
    Rule {
        code: AllIntermediateMasterReplicasNotReplicating,
        description: "Intermediate master is reachable but none of its replicas is replicating",
        tested: REACHABLE_REPLICAS,
        applies: |t, _| !t.is_master && t.last_check_valid() && t.count_replicas() > 0 && t.count_replicating == 0,
    },
    Rule {
        code: BinlogServerFailingToConnectToMaster,
        description: "Binlog server is unable to connect to its master",
        tested: &[BinlogServer, OwnConnection],
        applies: |t, _| t.is_binlog_server && t.is_failing_to_connect,
    },
    Rule {
        code: FirstTierReplicaFailingToConnectToMaster,
        description: "1st tier replica (directly replicating from topology master) is unable to connect to the master",
        tested: &[Role, Depth, OwnConnection],
        applies: |t, _| t.instance.replication_depth == 1 && t.is_failing_to_connect,
    },
];

/// Group replication members get one rule of their own instead of the classic ones.
static GROUP_MEMBER_RULE: Rule = Rule {
    code: DeadReplicationGroupMemberWithReplicas,
    description: "Group member is unreachable and all its reachable replicas are not replicating",
    tested: &[Role, Reachability, Replicas, Replicating],
    applies: |t, _| !t.last_check_valid() && t.count_replicas() > 0 && t.count_replicating == 0,
};

/// What the first matching rule says, or `NoProblem`.
pub fn classify(t: &Tally<'_>, settings: &AnalysisSettings) -> Verdict {
    let rules: &[Rule] = if t.is_group_member { std::slice::from_ref(&GROUP_MEMBER_RULE) } else { RULES };
    rules
        .iter()
        .find(|r| (r.applies)(t, settings))
        .map(|r| Verdict { code: r.code, description: r.description, tested: r.tested })
        .unwrap_or(Verdict { code: NoProblem, description: "", tested: &[Role, Reachability, Replicas, ValidReplicas, Replicating] })
}

/// Semi-sync primary waiting for more acknowledgements than it has replicas for (§4.2 #8).
fn semi_sync_locked(t: &Tally<'_>) -> bool {
    let i = t.instance;
    t.is_master
        && i.semi_sync_master_enabled
        && i.semi_sync_master_status
        && i.semi_sync_master_wait_for_replica_count > 0
        && i.semi_sync_master_clients < i.semi_sync_master_wait_for_replica_count
}

/// The codes the rules can produce, in rule order (for tests: every code has a case).
#[cfg(test)]
pub fn producible() -> Vec<AnalysisCode> {
    let mut codes: Vec<AnalysisCode> = RULES.iter().map(|r| r.code).collect();
    codes.push(GROUP_MEMBER_RULE.code);
    codes.dedup();
    codes
}

#[cfg(test)]
#[path = "codes_tests.rs"]
mod tests;
