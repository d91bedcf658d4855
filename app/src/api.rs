//! Server functions: thin wrappers over `NodeView`, which the server implements over its
//! discovery state and provides as context. The browser calls them over HTTP under `/_sfn`
//! (orchestrator's own `/api` namespace stays free for its JSON API).

use crate::model::ClusterOverview;
use leptos::prelude::*;

/// What the pages read from the node. Implemented by the server; absent in the browser.
#[cfg(feature = "ssr")]
pub trait NodeView: Send + Sync + 'static {
    /// Every cluster with its members, ordered by cluster alias.
    fn clusters_overview(&self) -> Vec<ClusterOverview>;
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
