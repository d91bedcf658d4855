//! Server functions: thin wrappers over `NodeView`, which the server implements over its
//! discovery state and provides as context. The browser calls them over HTTP under `/_sfn`
//! (orchestrator's own `/api` namespace stays free for its JSON API).

use crate::model::ops::{Operation, OperationReport};
use crate::model::{display, ClusterOverview, InstanceKey};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A future the server hands back to a server function.
#[cfg(feature = "ssr")]
pub type NodeFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// What the pages read from the node. Implemented by the server; absent in the browser.
#[cfg(feature = "ssr")]
pub trait NodeView: Send + Sync + 'static {
    /// Every cluster with its members, ordered by cluster alias.
    fn clusters_overview(&self) -> Vec<ClusterOverview>;

    /// Plans a topology operation (`dry_run`) or runs it. A refusal or a failure comes back as
    /// its one-line message; a failed run's report (what ran, what was put back) is in `Err`'s
    /// second element when there is one.
    fn operate(&self, op: Operation, dry_run: bool) -> NodeFuture<Result<OperationReport, OperationError>>;

    /// This node: version, mode, store health, what it knows. `http_address` is left empty
    /// (the server function fills in the address the request reached).
    fn node_info(&self) -> NodeFuture<NodeInfo>;

    /// One page of the audit log, latest first (the rows of `/api/audit/:page`).
    fn audit_log(&self, page: u32) -> NodeFuture<Result<Vec<AuditRow>, String>>;

    /// Discovers `host[:port]` (the node's default port when absent) as `/api/discover` does,
    /// and records it in the audit log. Refused on a read-only node.
    fn discover(&self, host_port: String) -> NodeFuture<Result<Discovered, String>>;

    /// The latest recoveries and, first, the failures whose recovery did not run.
    fn recoveries(&self) -> NodeFuture<Result<Vec<RecoveryView>, String>>;

    /// Acknowledges recovery `id` (`ack-recovery/:id`), ending the block it puts on its
    /// cluster. Answers how many were acknowledged; refused on a read-only node or without a
    /// comment.
    fn acknowledge(&self, id: i64, comment: String) -> NodeFuture<Result<u64, String>>;

    /// The failure analysis of every cluster (`/api/replication-analysis`), problems only.
    fn replication_analysis(&self) -> Vec<crate::model::analysis::ReplicationAnalysis>;
}

/// The context value server functions find the node through.
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct Node(pub std::sync::Arc<dyn NodeView>);

#[cfg(feature = "ssr")]
fn node() -> Result<Node, ServerFnError> {
    use_context::<Node>().ok_or_else(|| ServerFnError::new("node context missing"))
}

/// What the failure analysis finds now, downtimed entries included (marked skippable).
#[server(prefix = "/_sfn", endpoint = "analysis")]
pub async fn replication_analysis() -> Result<Vec<crate::model::analysis::ReplicationAnalysis>, ServerFnError> {
    Ok(node()?.0.replication_analysis())
}

#[server(prefix = "/_sfn", endpoint = "clusters")]
pub async fn list_clusters() -> Result<Vec<ClusterOverview>, ServerFnError> {
    Ok(node()?.0.clusters_overview())
}

/// Why an operation asked from the web UI did not complete.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OperationError {
    /// One line, naming the rule that refused or the step that failed.
    pub message: String,
    /// For a run that failed: every step and what was put back.
    pub report: Option<OperationReport>,
}

/// Plans (`dry_run`) or runs a topology operation for the web UI: the confirm dialog shows the
/// plan, then the same operation runs. `Ok(Err(..))` is a refusal or a failed run, which the
/// page shows as such (not a transport error).
#[server(prefix = "/_sfn", endpoint = "operate", input = leptos::server_fn::codec::Json)]
pub async fn run_operation(op: Operation, dry_run: bool) -> Result<Result<OperationReport, OperationError>, ServerFnError> {
    Ok(node()?.0.operate(op, dry_run).await)
}

/// What the status page shows about the node, and what pages ask before offering actions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// `ReadOnly: true` in the config: the node refuses every change, so pages hide actions.
    pub read_only: bool,
    /// The orchestrator version this node runs.
    pub version: String,
    /// The machine's host name (orchestrator's `/api/status` `Hostname`).
    pub hostname: String,
    /// `host:port` the page's request reached this node at.
    pub http_address: String,
    /// When this node started.
    pub started: DateTime<Utc>,
    /// Seconds since `started`, by the node's clock.
    pub uptime_seconds: u64,
    /// Servers the node knows (probed or placeholders).
    pub instances: usize,
    /// Clusters those servers form.
    pub clusters: usize,
    /// The node can write to its store (what `/api/status` calls healthy).
    pub store_healthy: bool,
    /// The store, e.g. `sqlite:/var/lib/orchestrator/orchestrator.sqlite3`.
    pub backend: String,
    /// Raft membership; `None` while this node runs without raft.
    pub raft: Option<RaftInfo>,
    /// The rules' settings, so the graph's drop previews decide as the node does.
    pub rules: crate::rules::RuleSettings,
}

/// The node's place in a raft group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RaftInfo {
    /// The leader's advertised address, empty while there is none.
    pub leader: String,
    pub is_leader: bool,
    /// Every member's advertised address, this node included.
    pub peers: Vec<String>,
}

/// The node's status; the graph page reads `read_only` to hide actions.
#[server(name = GetNodeInfo, prefix = "/_sfn", endpoint = "node-info")]
pub async fn node_info() -> Result<NodeInfo, ServerFnError> {
    use leptos::server_fn::http_export::{header::HOST, request::Parts};
    let mut info = node()?.0.node_info().await;
    if let Some(parts) = use_context::<Parts>() {
        info.http_address = parts.headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or_default().to_string();
    }
    Ok(info)
}

/// Rows per audit page (the store's page size).
pub const AUDIT_PAGE_SIZE: usize = 20;

/// One audit log entry as pages show it. The store's `details` (plans, statements) stay out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `discover`, `forget`, `relocate`, ...
    pub action: String,
    /// Empty for cluster-wide entries.
    pub instance: InstanceKey,
    pub cluster: String,
    /// `api`, `cli`, `web`, or a user once there are users.
    pub who: String,
    pub message: String,
}

/// A recovery the node ran, or a failure whose recovery did not run and why.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecoveryView {
    /// The recovery's id; 0 for one that did not run.
    pub id: i64,
    pub uid: String,
    /// When it started (or was last blocked).
    pub at: DateTime<Utc>,
    /// `recovery` or `blocked`.
    pub action: String,
    /// Empty when automated, else the command (`graceful-master-takeover`, ...).
    pub command: String,
    /// The failed server.
    pub instance: InstanceKey,
    pub cluster: String,
    /// The summary, or why it did not run.
    pub message: String,
    /// The analysis code that started it (`DeadMaster`).
    pub analysis: String,
    /// `None` for a recovery that did not run (or is still running).
    pub success: Option<bool>,
    pub successor: Option<InstanceKey>,
    pub successor_reason: String,
    /// Replicas lost, with why.
    pub lost: Vec<String>,
    /// Every step with its start, duration, statements and error.
    pub steps: Vec<crate::model::ops::StepRun>,
    /// Every hook run, in order.
    pub hooks: Vec<HookView>,
    pub warnings: Vec<String>,
    pub error: String,
    pub duration_ms: f64,
    /// It blocks automated recoveries of its cluster (not acknowledged, within
    /// `RecoveryPeriodBlockSeconds`).
    pub is_active: bool,
    pub acknowledged: bool,
    /// "by: comment", when acknowledged.
    pub acknowledgement: String,
    /// For a blocked one: the recovery blocking it (0: a switch, the filters or downtime).
    pub blocked_by: i64,
}

/// One hook run of a recovery.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HookView {
    /// `PreFailoverProcesses`, ...
    pub phase: String,
    pub command: String,
    pub started: Option<DateTime<Utc>>,
    pub duration_ms: f64,
    /// Exit or HTTP status.
    pub status: Option<i32>,
    pub output: String,
    pub error: String,
}

/// The latest recoveries (and blocked ones), newest first.
#[server(prefix = "/_sfn", endpoint = "recoveries")]
pub async fn recoveries() -> Result<Vec<RecoveryView>, ServerFnError> {
    node()?.0.recoveries().await.map_err(ServerFnError::new)
}

/// Acknowledges one recovery with a comment. `Ok(Err(..))` is a refusal the page shows.
#[server(prefix = "/_sfn", endpoint = "acknowledge")]
pub async fn acknowledge_recovery(id: i64, comment: String) -> Result<Result<u64, String>, ServerFnError> {
    Ok(node()?.0.acknowledge(id, comment).await)
}

/// One page (from 0) of the audit log, latest first.
#[server(prefix = "/_sfn", endpoint = "audit")]
pub async fn audit_log(page: u32) -> Result<Vec<AuditRow>, ServerFnError> {
    node()?.0.audit_log(page).await.map_err(ServerFnError::new)
}

/// What a discovery found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Discovered {
    /// The server's key as the node knows it (`host:port`).
    pub instance: String,
    /// The cluster it belongs to, which its page is named after.
    pub cluster_name: String,
}

/// Discovers `host[:port]` for the discover form. `Ok(Err(..))` is a refusal or an unreachable
/// server, which the page shows as such; nothing is kept for a server that does not answer.
#[server(prefix = "/_sfn", endpoint = "discover")]
pub async fn discover_instance(host_port: String) -> Result<Result<Discovered, String>, ServerFnError> {
    Ok(node()?.0.discover(host_port).await)
}

/// One instance a search found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub key: String,
    pub alias: String,
    pub role: String,
    pub version: String,
    pub cluster_name: String,
    pub cluster_alias: String,
    pub problems: Vec<String>,
}

/// Instances whose `host:port`, alias, cluster name or cluster alias contains `query`
/// (case-insensitive), in cluster then tree order.
pub fn search(clusters: &[ClusterOverview], query: &str) -> Vec<SearchHit> {
    let needle = query.trim().to_lowercase();
    if needle.is_empty() {
        return Vec::new();
    }
    let hit = |text: &str| text.to_lowercase().contains(&needle);
    clusters
        .iter()
        .flat_map(|c| {
            let cluster_hit = hit(&c.info.cluster_name) || hit(&c.info.cluster_alias);
            c.instances.iter().filter(move |i| cluster_hit || hit(&i.key.to_string()) || hit(&i.instance_alias)).map(|i| SearchHit {
                key: i.key.to_string(),
                alias: i.instance_alias.clone(),
                role: display::role(i).to_string(),
                version: format!("{} {}", i.flavor_name, i.version).trim().to_string(),
                cluster_name: c.info.cluster_name.clone(),
                cluster_alias: c.info.cluster_alias.clone(),
                problems: i.problems.clone(),
            })
        })
        .collect()
}

/// The search page's results.
#[server(prefix = "/_sfn", endpoint = "search")]
pub async fn search_instances(query: String) -> Result<Vec<SearchHit>, ServerFnError> {
    Ok(search(&node()?.0.clusters_overview(), &query))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClusterInfo, Instance};

    fn cluster(name: &str, alias: &str, members: &[(&str, &str)]) -> ClusterOverview {
        ClusterOverview {
            info: ClusterInfo { cluster_name: name.into(), cluster_alias: alias.into(), ..Default::default() },
            instances: members
                .iter()
                .map(|(key, alias)| {
                    let mut i = Instance::unseen(InstanceKey::parse(key, 3306).unwrap());
                    i.instance_alias = alias.to_string();
                    i.cluster_name = name.into();
                    i
                })
                .collect(),
        }
    }

    #[test]
    fn search_matches_keys_aliases_and_clusters_ignoring_case() {
        let all = [
            cluster("db1:3306", "main", &[("db1:3306", "mysql1"), ("db2:3306", "MySQL2")]),
            cluster("other:3306", "billing", &[("other:3306", "")]),
        ];
        let keys = |q: &str| search(&all, q).into_iter().map(|h| h.key).collect::<Vec<_>>();
        assert_eq!(keys("mysql2"), ["db2:3306"]);
        assert_eq!(keys("DB2"), ["db2:3306"]);
        // A cluster name or alias matches every member.
        assert_eq!(keys("DB1"), ["db1:3306", "db2:3306"]);
        assert_eq!(keys("MAIN"), ["db1:3306", "db2:3306"]);
        assert_eq!(keys("other:33"), ["other:3306"]);
        assert_eq!(keys("billing"), ["other:3306"]);
        assert!(keys("  ").is_empty());
        assert!(keys("nothing").is_empty());
    }
}
