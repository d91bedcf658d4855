//! The node's HTTP face: orchestrator's JSON API under `/api`, the web UI (Leptos pages, server
//! functions under `/_sfn`, static files under `/pkg`). The router is built apart from serving
//! it, so handler tests need no socket.
//!
//! # Layout
//! - `api`:   `/api/...` handlers.
//! - `ops`:   topology operations (`/api/relocate/...`, dry runs).
//! - `intents`: maintenance, downtime, promotion rules and tags (`/api/begin-downtime/...`).
//! - `sql`:   `/api/sql/:host/:port?q=`: one read-only statement on a managed server.
//! - `error`: `ApiError` and its HTTP statuses (the only place statuses are chosen).
//! - `web`:   Leptos routes, the pages' view of the node, static files.
//! - `live`:  `/_live/clusters`, the server-sent events that keep open pages current.
//! - `analysis`: `/api/replication-analysis...`: orchestrator's failure analysis.
//! - `takeover`: graceful-master-takeover[-auto], force-master-takeover/-failover, recover.
//! - `recovery`: recovery records, detections, blocked recoveries, acknowledgements, switches.
//! - `raft`:  `/api/raft-*`: state, leader, health, status, peers, membership.
//! - `forward`: with raft, a follower sends writes on to the leader (outermost layer).

pub mod analysis;
pub mod api;
pub mod error;
pub mod forward;
pub mod intents;
pub mod live;
pub mod ops;
pub mod raft;
pub mod recovery;
pub mod sql;
pub mod takeover;
pub mod web;

use crate::discovery::Discovery;
use crate::intents::Intents;
use crate::refactor::Refactor;
use crate::store::Store;
use crate::topology::ascii::AsciiSettings;
use crate::topology::clusters::RecoveryFilters;
use axum::Router;
use std::path::PathBuf;
use std::sync::Arc;

/// What handlers need besides discovery and the store.
#[derive(Clone, Debug)]
pub struct ApiSettings {
    pub default_port: u16,
    pub ascii: AsciiSettings,
    pub recovery_filters: RecoveryFilters,
    /// `ReadOnly`: refuse every mutation.
    pub read_only: bool,
    /// This node's name and a random token identifying this run (orchestrator's `/api/status`).
    pub hostname: String,
    pub token: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// e.g. `sqlite:/var/lib/orchestrator/orchestrator.sqlite3`.
    pub backend_description: String,
    /// `RecoveryPeriodBlockSeconds`: how long a recovery stays active.
    pub recovery_block_seconds: u64,
    /// `RecoveryObserveOnly`: observe-only mode until switched at runtime.
    pub observe_only_default: bool,
}

/// State shared by every API handler.
#[derive(Clone)]
pub struct AppState {
    pub discovery: Discovery,
    pub store: Store,
    /// Every write of replicated state (raft when enabled).
    pub replicated: crate::raft::Replicated,
    pub refactor: Refactor,
    /// Maintenance, downtime, promotion rules, tags: every change goes through it.
    pub intents: Intents,
    /// Runs `sql` statements on managed servers.
    pub sql: crate::sql::SqlRunner,
    /// Failure analysis with the configuration's settings and its memory between passes.
    pub analyzer: crate::analysis::Analyzer,
    pub settings: Arc<ApiSettings>,
    /// What recoveries obey (takeovers run the same recovery as the loop).
    pub recovery: Arc<crate::recovery::watch::WatchSettings>,
    /// Cancelled when the node stops: long-lived responses (event streams) end with it, so a
    /// graceful shutdown does not wait for open browser tabs.
    pub shutdown: tokio_util::sync::CancellationToken,
}

/// Where the built browser bundle (`pkg/orchestrator.js`, `_bg.wasm`, `.css`) is served from.
pub fn default_site_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("LEPTOS_SITE_ROOT") {
        return PathBuf::from(dir);
    }
    if let Some(exe_dir) = std::env::current_exe().ok().and_then(|p| p.parent().map(|d| d.to_path_buf())) {
        for candidate in [exe_dir.join("site"), exe_dir.join("../site")] {
            if candidate.join("pkg").is_dir() {
                return candidate;
            }
        }
    }
    PathBuf::from("target/site")
}

/// The whole router: API, pages, static files.
pub fn router(state: AppState, site_root: PathBuf) -> Router {
    // Every /api error is orchestrator's envelope, also those axum answers itself (405, bad path).
    let routes = api::routes()
        .merge(ops::routes())
        .merge(intents::routes())
        .merge(sql::routes())
        .merge(analysis::routes())
        .merge(recovery::routes())
        .merge(takeover::routes())
        .merge(raft::routes())
        .layer(axum::middleware::from_fn(api::envelope_rejections));
    let api = Router::new().nest("/api", routes).with_state(state.clone());
    let live = live::routes().with_state(state.clone());
    api.merge(live)
        .merge(web::router(state.clone(), site_root))
        // Outermost: a follower sends writes on to the raft leader before anything runs here.
        .layer(axum::middleware::from_fn_with_state(state, forward::to_leader))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}
