//! Legacy synonyms (`*Slave*` names, `RecoveryPeriodBlockMinutes`) and how they merge into the
//! current keys. The rules follow orchestrator's `postReadAdjustments`, except where noted.

use serde::Deserialize;

use super::error::{ConfigError, ConfigWarning, WarningKind};
use super::loader::Ctx;
use super::Config;

/// The legacy keys as written in a file; `None` when absent.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Legacy {
    #[serde(rename = "SlaveLagQuery")]
    slave_lag_query: Option<String>,
    #[serde(rename = "RecoveryPeriodBlockMinutes")]
    recovery_period_block_minutes: Option<u64>,
    #[serde(rename = "DetachLostSlavesAfterMasterFailover")]
    detach_lost_slaves_after_master_failover: Option<bool>,
    #[serde(rename = "MasterFailoverDetachSlaveMasterHost")]
    master_failover_detach_slave_master_host: Option<bool>,
    #[serde(rename = "PostponeSlaveRecoveryOnLagMinutes")]
    postpone_slave_recovery_on_lag_minutes: Option<u64>,
}

impl Legacy {
    /// Moves each legacy value to its current key.
    ///
    /// - `SlaveLagQuery` fills an empty `ReplicationLagQuery`; two different non-empty
    ///   queries are refused (as in orchestrator).
    /// - `PostponeSlaveRecoveryOnLagMinutes` fills a zero `PostponeReplicaRecoveryOnLagMinutes`;
    ///   two different non-zero values are refused (as in orchestrator).
    /// - `RecoveryPeriodBlockMinutes` × 60 is used when `RecoveryPeriodBlockSeconds` is absent
    ///   or 0; otherwise it is ignored with a warning. (orchestrator only used it when the
    ///   seconds key was 0, so alone it silently did nothing against the 3600 default.)
    /// - `DetachLostSlavesAfterMasterFailover` and `MasterFailoverDetachSlaveMasterHost` are
    ///   used when the current key is absent; different values under both names are refused.
    ///   (orchestrator OR-ed them with its `true` default, so `false` under the new name alone
    ///   did nothing.)
    pub(crate) fn apply(
        self,
        config: &mut Config,
        ctx: &Ctx<'_>,
        warnings: &mut Vec<ConfigWarning>,
    ) -> Result<(), ConfigError> {
        let conflict =
            |key: &'static str, replacement: &'static str| ConfigError::ConflictingSynonyms {
                at: ctx.at(key),
                key,
                replacement,
            };

        if let Some(query) = self.slave_lag_query {
            let current = &mut config.discovery.replication_lag_query;
            if current.is_empty() {
                *current = query;
            } else if !query.is_empty() && *current != query {
                return Err(conflict("SlaveLagQuery", "ReplicationLagQuery"));
            }
        }

        if let Some(minutes) = self.postpone_slave_recovery_on_lag_minutes {
            let current = &mut config.recovery.postpone_replica_recovery_on_lag_minutes;
            if *current == 0 {
                *current = minutes;
            } else if minutes != 0 && *current != minutes {
                return Err(conflict(
                    "PostponeSlaveRecoveryOnLagMinutes",
                    "PostponeReplicaRecoveryOnLagMinutes",
                ));
            }
        }

        if let Some(minutes) = self.recovery_period_block_minutes {
            let seconds = &mut config.recovery.recovery_period_block_seconds;
            if !ctx.has("RecoveryPeriodBlockSeconds") || *seconds == 0 {
                *seconds = minutes.checked_mul(60).ok_or_else(|| {
                    ConfigError::invalid(
                        ctx.at("RecoveryPeriodBlockMinutes"),
                        "RecoveryPeriodBlockMinutes",
                        "value is too large",
                    )
                })?;
            } else {
                warnings.push(ConfigWarning {
                    at: ctx.at("RecoveryPeriodBlockMinutes"),
                    key: "RecoveryPeriodBlockMinutes".to_owned(),
                    kind: WarningKind::NoEffect {
                        reason: "RecoveryPeriodBlockSeconds is set and takes precedence".to_owned(),
                    },
                });
            }
        }

        let bools = [
            (
                self.detach_lost_slaves_after_master_failover,
                "DetachLostSlavesAfterMasterFailover",
                "DetachLostReplicasAfterMasterFailover",
                &mut config.recovery.detach_lost_replicas_after_master_failover,
            ),
            (
                self.master_failover_detach_slave_master_host,
                "MasterFailoverDetachSlaveMasterHost",
                "MasterFailoverDetachReplicaMasterHost",
                &mut config.recovery.master_failover_detach_replica_master_host,
            ),
        ];
        for (legacy, key, replacement, current) in bools {
            let Some(legacy) = legacy else { continue };
            if !ctx.has(replacement) {
                *current = legacy;
            } else if *current != legacy {
                return Err(conflict(key, replacement));
            }
        }
        Ok(())
    }
}
