//! External commands run around detections and recoveries (reference §3.3).
//!
//! Lists run sequentially; a command ending in `&` runs asynchronously and its failure is
//! ignored; in "Pre" lists the first failing synchronous command aborts the operation; in
//! "Post" lists failures are logged and the rest still run. Commands may use placeholders such
//! as `{failureType}`, `{failedHost}`, `{successorHost}` and get `ORC_*` environment variables.

use super::section::s;

config_section! {
    /// Hook command lists and the shell that runs them.
    pub struct HooksConfig {
        /// Shell running every hook command (`<shell> -c <command>`).
        "ProcessesShellCommand" => processes_shell_command: String = s("bash"),
        /// Not in orchestrator (its hooks could hang a recovery forever): a hook command or
        /// webhook still running after this many seconds is killed and counts as failed.
        "ProcessesTimeoutSeconds" => processes_timeout_seconds: u64 = 30,
        /// At detection time, once per instance per `FailureDetectionPeriodBlockMinutes`.
        "OnFailureDetectionProcesses" => on_failure_detection_processes: Vec<String> = Vec::new(),
        /// Before a graceful takeover sets the master read-only; a failure aborts it.
        "PreGracefulTakeoverProcesses" => pre_graceful_takeover_processes: Vec<String> = Vec::new(),
        /// Before any recovery action; a non-zero exit aborts the recovery.
        "PreFailoverProcesses" => pre_failover_processes: Vec<String> = Vec::new(),
        /// After a successful master or co-master recovery.
        "PostMasterFailoverProcesses" => post_master_failover_processes: Vec<String> = Vec::new(),
        /// After a successful intermediate-master or group-member recovery.
        "PostIntermediateMasterFailoverProcesses" => post_intermediate_master_failover_processes: Vec<String> = Vec::new(),
        /// After any successful recovery.
        "PostFailoverProcesses" => post_failover_processes: Vec<String> = Vec::new(),
        /// After any recovery that promoted nobody.
        "PostUnsuccessfulFailoverProcesses" => post_unsuccessful_failover_processes: Vec<String> = Vec::new(),
        /// After a graceful takeover completes.
        "PostGracefulTakeoverProcesses" => post_graceful_takeover_processes: Vec<String> = Vec::new(),
        /// After `take-master`; gets `ORC_SUCCESSOR_HOST`, `ORC_FAILED_HOST` and two arguments.
        "PostTakeMasterProcesses" => post_take_master_processes: Vec<String> = Vec::new(),
    }
}
