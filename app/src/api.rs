//! Server functions: thin wrappers over `NodeView`, which the server implements over its
//! discovery state and provides as context. The browser calls them over HTTP under `/_sfn`
//! (orchestrator's own `/api` namespace stays free for its JSON API).

use crate::model::ops::{Operation, OperationReport};
use crate::model::ClusterOverview;
use leptos::prelude::*;

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
}

/// The context value server functions find the node through.
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct Node(pub std::sync::Arc<dyn NodeView>);

#[server(prefix = "/_sfn", endpoint = "clusters")]
pub async fn list_clusters() -> Result<Vec<ClusterOverview>, ServerFnError> {
    let node = use_context::<Node>().ok_or_else(|| ServerFnError::new("node context missing"))?;
    Ok(node.0.clusters_overview())
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
    let node = use_context::<Node>().ok_or_else(|| ServerFnError::new("node context missing"))?;
    Ok(node.0.operate(op, dry_run).await)
}
