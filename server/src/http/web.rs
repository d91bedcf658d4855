//! The web UI: Leptos pages rendered on the server and hydrated in the browser, the server
//! functions they call, and the built bundle under `/pkg`.

use super::AppState;
use crate::topology::clusters;
use crate::refactor::RefactorError;
use app::api::{Node, NodeFuture, NodeView, OperationError};
use app::model::ops::{Operation, OperationReport};
use app::model::ClusterOverview;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::path::PathBuf;
use std::sync::Arc;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

/// The name wasm-bindgen gives the bundle (`--out-name`): `pkg/orchestrator.js`,
/// `pkg/orchestrator_bg.wasm`, plus the stylesheet `pkg/orchestrator.css`.
pub const OUTPUT_NAME: &str = "orchestrator";

impl NodeView for AppState {
    fn clusters_overview(&self) -> Vec<ClusterOverview> {
        clusters::overview(&self.discovery.instances(), &self.settings.recovery_filters)
    }

    fn operate(&self, op: Operation, dry_run: bool) -> NodeFuture<Result<OperationReport, OperationError>> {
        let state = self.clone();
        Box::pin(async move {
            if !dry_run && state.settings.read_only {
                return Err(OperationError { message: "this node is configured read-only (ReadOnly: true)".into(), report: None });
            }
            match state.refactor.run(op, dry_run, "web").await {
                Ok(outcome) => Ok(outcome.report),
                Err(RefactorError::Failed(report)) => Err(OperationError { message: format!("{} failed: {}", report.plan.operation, report.error), report: Some(*report) }),
                Err(other) => Err(OperationError { message: other.to_string(), report: None }),
            }
        })
    }
}

pub fn router(state: AppState, site_root: PathBuf) -> Router {
    let options = LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(site_root.display().to_string())
        .site_pkg_dir("pkg")
        .build();
    let routes = generate_route_list(app::App);
    let node = Node(Arc::new(state));
    let pkg = ServeDir::new(site_root.join("pkg"));
    Router::new()
        .leptos_routes_with_context(
            &options,
            routes,
            move || provide_context(node.clone()),
            {
                let options = options.clone();
                move || app::shell(options.clone())
            },
        )
        .nest_service("/pkg", Router::new().fallback_service(pkg).layer(CompressionLayer::new()))
        .with_state(options)
}
