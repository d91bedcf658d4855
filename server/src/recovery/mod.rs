//! Recovery planning: from a snapshot, a verdict and the policy to a plan (a list of steps) or a
//! typed refusal. Pure: no IO. The executor runs the steps and records each; the watch loop
//! detects dead primaries and drives the two.
//!
//! Decisions that differ from orchestrator (reference §14):
//! - Every veto (lag, unapplied relay log, data centre, region, downtime, maintenance,
//!   `must_not`, `PromotionIgnoreHostnameFilters`) is decided from the snapshot before anything
//!   is stopped or moved; orchestrator regrouped first and vetoed afterwards.
//! - No data is lost silently: when the best replica that may be promoted holds less of the dead
//!   primary's binary log than another reachable replica, the recovery is refused, naming that
//!   replica and why it could not be promoted. orchestrator promoted the most advanced and
//!   swapped roles afterwards, or lost the ahead replicas.
//! - "Most advanced" is what a replica will hold once its relay log is applied: its read
//!   coordinates on the dead primary's binary log (every replica reads the same files), with
//!   Oracle GTID sets breaking ties (a strict superset wins). Lag alone never ranks.
//! - Without GTID a replica is re-pointed only when it provably holds exactly what the candidate
//!   holds (same read coordinates); it then continues at the candidate's own binlog position
//!   taken after both applied their relay logs, before the candidate takes writes. Any other
//!   non-GTID replica is lost and said so (there is no Pseudo-GTID here).
//!
//! # Layout
//! - `policy`:       `RecoveryPolicy`: the configuration keys a recovery obeys.
//! - `candidate`:    which replica of a dead primary is promoted, why, and why not the others.
//! - `plan`:         `RecoveryPlan`, `RecoveryStep`, `RecoveryError`; the dead primary plan.
//! - `intermediate`: the dead intermediate primary plan (orchestrator's plans A, C, D).
//! - `co_master`:    the dead co-master plan: the surviving co-master becomes the primary.
//! - `executor`:     runs a plan on the servers; `RecoveryRecord`, the timeline of one recovery.
//! - `fence`:        old primaries that did not answer are made read-only when they answer again.
//! - `hooks`:        orchestrator's hook lists: shell commands and webhooks, placeholders, timeouts.
//! - `run`:          one recovery from registration (anti-flapping) through hooks, plan and
//!   execution to its stored record.
//! - `takeover`:     graceful-master-takeover[-auto], force-master-takeover/-failover, recover.
//! - `watch`:        the 100 ms loop: analysis, detections, switches, filters, downtime, recovery.

pub mod candidate;
pub mod co_master;
pub mod executor;
pub mod fence;
pub mod hooks;
pub mod intermediate;
pub mod plan;
pub mod policy;
pub mod run;
pub mod takeover;
pub mod watch;
#[cfg(test)]
mod tests;

pub use candidate::{choose_candidate, choose_promotion_candidate, Candidacy};
pub use co_master::plan_dead_co_master;
pub use intermediate::plan_dead_intermediate_master;
pub use plan::{plan_dead_master, plan_dead_master_onto, LostReplica, OnTimeout, RecoveryError, RecoveryKind, RecoveryPlan, RecoveryStep};
pub use policy::RecoveryPolicy;
