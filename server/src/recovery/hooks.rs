//! Hooks: the external commands orchestrator runs around detections, recoveries and takeovers,
//! in its order, with its placeholders and `ORC_*` environment (reference §3.3).
//!
//! - A list runs in order. An entry ending in `&` runs in the background: started, not waited
//!   for, its failure ignored.
//! - In a "Pre" list the first failing entry stops the list and aborts what it guards; in the
//!   other lists a failure is recorded and the rest still run.
//! - An entry starting with `http://` or `https://` is a webhook: POSTed the hook's context as
//!   JSON (placeholders in the URL are replaced too); any 2xx answer is success.
//! - Not in orchestrator: every entry has a timeout (`ProcessesTimeoutSeconds`); a shell
//!   command's whole process group is killed when it runs out.
//! - Each run is recorded (what ran, when, how long, exit status, the first 4 KB of its output).
//!   A webhook's recorded URL drops its user info and query string, which may hold tokens.

use app::model::InstanceKey;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::{Duration, Instant};

/// Where in a recovery a list runs; the name is the configuration key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Phase {
    OnFailureDetectionProcesses,
    PreFailoverProcesses,
    PostMasterFailoverProcesses,
    PostIntermediateMasterFailoverProcesses,
    PostFailoverProcesses,
    PostUnsuccessfulFailoverProcesses,
    PreGracefulTakeoverProcesses,
    PostGracefulTakeoverProcesses,
}

impl Phase {
    /// A failing entry aborts what the list guards.
    pub fn aborts(self) -> bool {
        matches!(self, Phase::PreFailoverProcesses | Phase::PreGracefulTakeoverProcesses)
    }
}

/// How hooks run.
#[derive(Clone, Debug)]
pub struct HookSettings {
    /// `ProcessesShellCommand`.
    pub shell: String,
    /// `ProcessesTimeoutSeconds`.
    pub timeout: Duration,
    /// This node's name: `{orchestratorHost}`.
    pub node: String,
}

/// What a hook is told: orchestrator's placeholders and `ORC_*` variables.
#[derive(Clone, Debug, Default, Serialize)]
pub struct HookContext {
    #[serde(rename = "FailureType")]
    pub failure_type: String,
    /// `master`, `co-master`, `intermediate-master`.
    #[serde(rename = "InstanceType")]
    pub instance_type: String,
    #[serde(rename = "FailureDescription")]
    pub failure_description: String,
    /// `graceful-master-takeover`, `force-master-failover`, `force-master-takeover`, or empty.
    #[serde(rename = "Command")]
    pub command: String,
    #[serde(rename = "FailedHost")]
    pub failed_host: String,
    #[serde(rename = "FailedPort")]
    pub failed_port: u16,
    #[serde(rename = "FailureCluster")]
    pub cluster: String,
    #[serde(rename = "FailureClusterAlias")]
    pub cluster_alias: String,
    #[serde(rename = "FailureClusterDomain")]
    pub cluster_domain: String,
    #[serde(rename = "CountReplicas")]
    pub count_replicas: usize,
    #[serde(rename = "IsDowntimed")]
    pub is_downtimed: bool,
    #[serde(rename = "AutoMasterRecovery")]
    pub auto_master_recovery: bool,
    #[serde(rename = "AutoIntermediateMasterRecovery")]
    pub auto_intermediate_master_recovery: bool,
    #[serde(rename = "OrchestratorHost")]
    pub orchestrator_host: String,
    #[serde(rename = "RecoveryUID")]
    pub recovery_uid: String,
    #[serde(rename = "IsSuccessful")]
    pub is_successful: bool,
    #[serde(rename = "SuccessorKey")]
    pub successor: Option<InstanceKey>,
    #[serde(rename = "SuccessorBinlogCoordinates")]
    pub successor_coordinates: String,
    #[serde(rename = "SuccessorAlias")]
    pub successor_alias: String,
    #[serde(rename = "LostReplicas")]
    pub lost_replicas: Vec<InstanceKey>,
    #[serde(rename = "ReplicaHosts")]
    pub replica_hosts: Vec<InstanceKey>,
}

fn keys(list: &[InstanceKey]) -> String {
    list.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

impl HookContext {
    /// `(placeholder, ORC_ variable, value)`, in orchestrator's order. Successor entries only
    /// when there is a successor.
    pub fn values(&self) -> Vec<(&'static str, &'static str, String)> {
        let b = |v: bool| v.to_string();
        let mut out = vec![
            ("failureType", "ORC_FAILURE_TYPE", self.failure_type.clone()),
            ("instanceType", "ORC_INSTANCE_TYPE", self.instance_type.clone()),
            ("isMaster", "ORC_IS_MASTER", b(self.instance_type == "master")),
            ("isCoMaster", "ORC_IS_CO_MASTER", b(self.instance_type == "co-master")),
            ("failureDescription", "ORC_FAILURE_DESCRIPTION", self.failure_description.clone()),
            ("command", "ORC_COMMAND", self.command.clone()),
            ("failedHost", "ORC_FAILED_HOST", self.failed_host.clone()),
            ("failedPort", "ORC_FAILED_PORT", self.failed_port.to_string()),
            ("failureCluster", "ORC_FAILURE_CLUSTER", self.cluster.clone()),
            ("failureClusterAlias", "ORC_FAILURE_CLUSTER_ALIAS", self.cluster_alias.clone()),
            ("failureClusterDomain", "ORC_FAILURE_CLUSTER_DOMAIN", self.cluster_domain.clone()),
            ("countReplicas", "ORC_COUNT_REPLICAS", self.count_replicas.to_string()),
            ("countSlaves", "", self.count_replicas.to_string()),
            ("isDowntimed", "ORC_IS_DOWNTIMED", b(self.is_downtimed)),
            ("autoMasterRecovery", "ORC_AUTO_MASTER_RECOVERY", b(self.auto_master_recovery)),
            ("autoIntermediateMasterRecovery", "ORC_AUTO_INTERMEDIATE_MASTER_RECOVERY", b(self.auto_intermediate_master_recovery)),
            ("orchestratorHost", "ORC_ORCHESTRATOR_HOST", self.orchestrator_host.clone()),
            ("recoveryUID", "ORC_RECOVERY_UID", self.recovery_uid.clone()),
            ("isSuccessful", "ORC_IS_SUCCESSFUL", b(self.is_successful)),
            ("lostReplicas", "ORC_LOST_REPLICAS", keys(&self.lost_replicas)),
            ("lostSlaves", "", keys(&self.lost_replicas)),
            ("countLostReplicas", "", self.lost_replicas.len().to_string()),
            ("replicaHosts", "ORC_REPLICA_HOSTS", keys(&self.replica_hosts)),
            ("slaveHosts", "", keys(&self.replica_hosts)),
        ];
        if let Some(s) = &self.successor {
            out.push(("successorHost", "ORC_SUCCESSOR_HOST", s.hostname.clone()));
            out.push(("successorPort", "ORC_SUCCESSOR_PORT", s.port.to_string()));
            out.push(("successorBinlogCoordinates", "ORC_SUCCESSOR_BINLOG_COORDINATES", self.successor_coordinates.clone()));
            out.push(("successorAlias", "ORC_SUCCESSOR_ALIAS", self.successor_alias.clone()));
        }
        out
    }

    /// `command` with every `{placeholder}` replaced.
    pub fn expand(&self, command: &str) -> String {
        let mut out = command.to_string();
        for (name, _, value) in self.values() {
            out = out.replace(&format!("{{{name}}}"), &value);
        }
        out
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        self.values().into_iter().filter(|(_, var, _)| !var.is_empty()).map(|(_, var, v)| (var, v)).collect()
    }
}

/// One hook run, as the recovery's record keeps it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct HookRun {
    #[serde(rename = "Phase")]
    pub phase: Phase,
    /// The command as configured (a webhook: its URL without user info and query).
    #[serde(rename = "Command")]
    pub command: String,
    #[serde(rename = "Started")]
    pub started: DateTime<Utc>,
    #[serde(rename = "DurationMillis")]
    pub duration_ms: f64,
    /// Started in the background (`&`): not waited for.
    #[serde(rename = "Background")]
    pub background: bool,
    /// Exit status or HTTP status; `None` when it did not end (timeout, could not start).
    #[serde(rename = "Status")]
    pub status: Option<i32>,
    /// The first 4 KB of stdout and stderr, or of the webhook's answer.
    #[serde(rename = "Output")]
    pub output: String,
    /// Empty on success.
    #[serde(rename = "Error")]
    pub error: String,
}

/// Output kept per run.
const OUTPUT_LIMIT: usize = 4096;

fn clip(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(OUTPUT_LIMIT)]).into_owned();
    if bytes.len() > OUTPUT_LIMIT { format!("{text}… ({} bytes)", bytes.len()) } else { text }
}

/// Whether an entry is a webhook.
pub fn is_webhook(entry: &str) -> bool {
    let e = entry.trim_start();
    e.starts_with("http://") || e.starts_with("https://")
}

/// A URL fit for records and logs: no user info, no query, no fragment.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    format!("{scheme}://{host}{path}")
}

/// Runs one list. Returns every run and, for an aborting list whose entry failed, the error.
pub async fn run_list(phase: Phase, entries: &[String], ctx: &HookContext, settings: &HookSettings) -> (Vec<HookRun>, Result<(), String>) {
    let mut runs = Vec::new();
    for entry in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
        let background = entry.ends_with('&');
        let entry = entry.trim_end_matches('&').trim_end();
        let run = if is_webhook(entry) { webhook(phase, entry, ctx, settings, background).await } else { shell(phase, entry, ctx, settings, background).await };
        let failed = !run.error.is_empty();
        if failed {
            tracing::warn!(phase = ?phase, command = %run.command, error = %run.error, "hook failed");
        }
        let error = run.error.clone();
        runs.push(run);
        if failed && !background && phase.aborts() {
            return (runs, Err(format!("{phase:?}: {error}")));
        }
    }
    (runs, Ok(()))
}

async fn shell(phase: Phase, command: &str, ctx: &HookContext, settings: &HookSettings, background: bool) -> HookRun {
    let started = Utc::now();
    let clock = Instant::now();
    let mut run = HookRun { phase, command: command.to_string(), started, duration_ms: 0.0, background, status: None, output: String::new(), error: String::new() };
    let mut cmd = tokio::process::Command::new(&settings.shell);
    cmd.arg("-c").arg(ctx.expand(command)).envs(ctx.env()).stdin(std::process::Stdio::null()).process_group(0).kill_on_drop(!background);
    if background {
        cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    } else {
        cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    }
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            run.error = format!("cannot start {}: {e}", settings.shell);
            return run;
        }
    };
    if background {
        let timeout = settings.timeout;
        tokio::spawn(async move { reap(child, timeout).await });
        run.duration_ms = clock.elapsed().as_secs_f64() * 1000.0;
        return run;
    }
    let pid = child.id();
    match tokio::time::timeout(settings.timeout, child.wait_with_output()).await {
        Ok(Ok(out)) => {
            let mut text = out.stdout;
            text.extend_from_slice(&out.stderr);
            run.output = clip(&text);
            run.status = out.status.code();
            if !out.status.success() {
                run.error = match out.status.code() {
                    Some(code) => format!("exited with status {code}"),
                    None => "killed by a signal".to_string(),
                };
            }
        }
        Ok(Err(e)) => run.error = format!("waiting for it failed: {e}"),
        Err(_) => {
            kill_group(pid);
            run.error = format!("still running after {} s: killed", settings.timeout.as_secs());
        }
    }
    run.duration_ms = clock.elapsed().as_secs_f64() * 1000.0;
    run
}

/// Waits for a background hook, killing its group when it outlives the timeout.
async fn reap(mut child: tokio::process::Child, timeout: Duration) {
    let pid = child.id();
    if tokio::time::timeout(timeout, child.wait()).await.is_err() {
        kill_group(pid);
        let _ = child.wait().await;
    }
}

fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: kill(2) with a negative pid signals that process group; no memory involved.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

async fn webhook(phase: Phase, url: &str, ctx: &HookContext, settings: &HookSettings, background: bool) -> HookRun {
    let started = Utc::now();
    let clock = Instant::now();
    let url = ctx.expand(url);
    let mut run = HookRun { phase, command: redact_url(&url), started, duration_ms: 0.0, background, status: None, output: String::new(), error: String::new() };
    let client = match reqwest::Client::builder().timeout(settings.timeout).build() {
        Ok(c) => c,
        Err(e) => {
            run.error = format!("cannot build an HTTP client: {e}");
            return run;
        }
    };
    let body = serde_json::json!({ "Phase": phase, "Context": ctx });
    let call = client.post(&url).json(&body).send();
    if background {
        let shown = run.command.clone();
        tokio::spawn(async move {
            if let Err(e) = call.await.and_then(|r| r.error_for_status()) {
                tracing::warn!(url = %shown, error = %without_url(&e), "background webhook failed");
            }
        });
        return run;
    }
    match call.await {
        Ok(answer) => {
            let status = answer.status();
            run.status = Some(status.as_u16() as i32);
            let bytes = answer.bytes().await.unwrap_or_default();
            run.output = clip(&bytes);
            if !status.is_success() {
                run.error = format!("answered HTTP {status}");
            }
        }
        Err(e) => run.error = without_url(&e),
    }
    run.duration_ms = clock.elapsed().as_secs_f64() * 1000.0;
    run
}

/// A reqwest error's text without the URL it carries (which may hold a token).
fn without_url(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_status() {
        "answered an error status"
    } else {
        "request failed"
    };
    let source = std::error::Error::source(e).map(|s| format!(": {s}")).unwrap_or_default();
    format!("{what}{source}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> HookContext {
        HookContext {
            failure_type: "DeadMaster".into(),
            instance_type: "master".into(),
            failed_host: "db1".into(),
            failed_port: 3306,
            cluster: "db1:3306".into(),
            cluster_alias: "main".into(),
            count_replicas: 2,
            successor: Some(InstanceKey::new("db2", 3306)),
            lost_replicas: vec![InstanceKey::new("db3", 3306)],
            replica_hosts: vec![InstanceKey::new("db2", 3306), InstanceKey::new("db3", 3306)],
            ..Default::default()
        }
    }

    fn settings() -> HookSettings {
        HookSettings { shell: "bash".into(), timeout: Duration::from_secs(5), node: "n1".into() }
    }

    #[test]
    fn placeholders_and_variables_carry_orchestrators_names() {
        let c = ctx();
        assert_eq!(
            c.expand("echo {failureType} {failedHost}:{failedPort} {isMaster} {successorHost} {lostSlaves} {countReplicas} {unknown}"),
            "echo DeadMaster db1:3306 true db2 db3:3306 2 {unknown}"
        );
        let env = c.env();
        assert!(env.contains(&("ORC_SUCCESSOR_HOST", "db2".into())));
        assert!(env.contains(&("ORC_REPLICA_HOSTS", "db2:3306,db3:3306".into())));
        let without = HookContext { successor: None, ..c };
        assert_eq!(without.expand("{successorHost}"), "{successorHost}", "no successor, no successor placeholders");
    }

    #[test]
    fn recorded_webhook_urls_keep_no_credentials() {
        assert_eq!(redact_url("https://user:tok@hooks.example.com/a/b?token=x#f"), "https://hooks.example.com/a/b");
        assert_eq!(redact_url("http://h:8080"), "http://h:8080");
        assert!(is_webhook(" https://x") && !is_webhook("curl https://x"));
    }

    #[tokio::test]
    async fn a_pre_list_stops_at_its_first_failure_a_post_list_goes_on() {
        let entries = vec!["echo one $ORC_FAILED_HOST".to_string(), "echo oops >&2; exit 3".to_string(), "echo three".to_string()];
        let (runs, result) = run_list(Phase::PreFailoverProcesses, &entries, &ctx(), &settings()).await;
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].output.trim(), "one db1");
        assert_eq!((runs[1].status, runs[1].output.trim(), runs[1].error.as_str()), (Some(3), "oops", "exited with status 3"));
        assert!(result.unwrap_err().contains("exited with status 3"));
        let (runs, result) = run_list(Phase::PostFailoverProcesses, &entries, &ctx(), &settings()).await;
        assert_eq!(runs.len(), 3);
        assert!(result.is_ok());
    }

    #[tokio::test]
    async fn a_hook_that_runs_too_long_is_killed_with_its_children() {
        let s = HookSettings { timeout: Duration::from_millis(300), ..settings() };
        let clock = Instant::now();
        let (runs, result) = run_list(Phase::PreFailoverProcesses, &["sleep 30 | cat".to_string()], &ctx(), &s).await;
        assert!(clock.elapsed() < Duration::from_secs(5), "{:?}", clock.elapsed());
        assert!(runs[0].error.contains("killed"), "{runs:?}");
        assert!(result.is_err());
        let (runs, result) = run_list(Phase::PreFailoverProcesses, &["exit 1 &".to_string()], &ctx(), &s).await;
        assert!(runs[0].background && result.is_ok(), "a background entry never aborts");
    }
}
