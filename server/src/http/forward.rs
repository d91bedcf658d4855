//! Follower → leader forwarding. With raft, only the leader writes: a mutating API call or
//! server function reaching a follower is sent on to the leader's HTTP API and its answer is
//! returned as it is, so clients can talk to any node (orchestrator's reverse proxy). Reads,
//! pages, the event stream and the raft routes (which describe the node asked) stay local.
//!
//! A forwarded request carries `X-Orchestrator-Forwarded-By`; a node that receives one while not
//! leader answers 503 instead of forwarding again (no loops while leadership moves).

use super::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// Set on a forwarded request: the raft address of the follower that forwarded it.
pub const FORWARDED_BY: &str = "x-orchestrator-forwarded-by";
/// How long a forwarded request may take (takeovers wait for catch-up).
const TIMEOUT: Duration = Duration::from_secs(120);
/// Largest body forwarded.
const MAX_BODY: usize = 16 << 20;

/// `/api/<route>` first segments that only read, or describe the node asked.
const LOCAL_API: &[&str] = &[
    "_ping", "all-instances", "audit", "audit-failure-detection", "audit-recovery", "audit-recovery-steps",
    "active-cluster-recovery", "blocked-recoveries", "can-replicate-from", "can-replicate-from-gtid",
    "check-global-recoveries", "check-observe-only", "cluster", "cluster-info", "cluster-master", "clusters",
    "clusters-info", "discovery-metrics", "downtimed", "get-candidate-replica", "health", "in-maintenance",
    "instance", "instance-replicas", "is-replicating", "is-replication-stopped", "lb-check", "leader-check",
    "maintenance", "master", "masters", "raft-health", "raft-leader", "raft-peers", "raft-snapshot", "raft-state",
    "raft-status", "raft-test", "raft-yield", "raft-yield-hint", "recently-active-cluster-recovery", "recently-active-instance-recovery",
    "refresh", "replication-analysis", "search", "sql", "status", "tag-value", "tagged", "tags", "topology",
    "topology-tabulated", "topology-tags", "which-gtid-errant",
];

/// Server functions that only read.
const LOCAL_SFN: &[&str] = &["analysis", "clusters", "node-info", "recoveries", "audit", "search"];

/// Whether a request changes something, and so belongs to the leader.
pub fn is_write(method: &Method, path: &str) -> bool {
    if let Some(rest) = path.strip_prefix("/api/") {
        let route = rest.split('/').next().unwrap_or("");
        return !LOCAL_API.contains(&route);
    }
    if let Some(rest) = path.strip_prefix("/_sfn/") {
        let name = rest.split('/').next().unwrap_or("");
        return method == Method::POST && !LOCAL_SFN.contains(&name);
    }
    false
}

/// The middleware: forwards writes when raft runs and this node does not lead.
pub async fn to_leader(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(consensus) = state.replicated.consensus().cloned() else {
        return next.run(request).await;
    };
    let path = request.uri().path().to_string();
    // The leader handles its writes itself, also while its quorum is late in answering (the
    // write then waits for the quorum, or fails, rather than being sent to itself).
    let leads = consensus.leader().is_some_and(|(id, _)| id == consensus.id());
    if !is_write(request.method(), &path) || consensus.is_leader() || leads {
        return next.run(request).await;
    }
    let refuse = |why: String| (StatusCode::SERVICE_UNAVAILABLE, axum::Json(app::model::Envelope::error(why))).into_response();
    if request.headers().contains_key(FORWARDED_BY) {
        return refuse("this node is not the raft leader (any more); retry".into());
    }
    let Some(leader) = consensus.leader_api().await.filter(|api| !api.is_empty()) else {
        return refuse("no raft leader is known to this node: the write cannot be accepted now".into());
    };
    let target = format!("{}{}", leader.trim_end_matches('/'), request.uri().path_and_query().map(|p| p.as_str()).unwrap_or(&path));
    match send(request, &target, &consensus.me().raft).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(%target, error = %e, "forwarding a write to the raft leader failed");
            (StatusCode::BAD_GATEWAY, axum::Json(app::model::Envelope::error(format!("cannot reach the raft leader at {leader}: {e}"))))
                .into_response()
        }
    }
}

async fn send(request: Request, target: &str, me: &str) -> Result<Response, String> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY).await.map_err(|e| format!("request body: {e}"))?;
    let client = client()?;
    let method = reqwest::Method::from_bytes(parts.method.as_str().as_bytes()).map_err(|e| e.to_string())?;
    let mut out = client.request(method, target).body(body);
    for (name, value) in parts.headers.iter() {
        if !hop_by_hop(name) {
            out = out.header(name.as_str(), value.as_bytes());
        }
    }
    let answer = out.header(FORWARDED_BY, me).send().await.map_err(|e| e.to_string())?;
    let status = StatusCode::from_u16(answer.status().as_u16()).map_err(|e| e.to_string())?;
    let mut response = Response::builder().status(status);
    for (name, value) in answer.headers().iter() {
        let name = HeaderName::from_bytes(name.as_str().as_bytes()).map_err(|e| e.to_string())?;
        if !hop_by_hop(&name) {
            response = response.header(name, HeaderValue::from_bytes(value.as_bytes()).map_err(|e| e.to_string())?);
        }
    }
    let bytes = answer.bytes().await.map_err(|e| e.to_string())?;
    response.body(Body::from(bytes)).map_err(|e| e.to_string())
}

/// One client for every forwarded request (its connections to the leader are reused); straight
/// to the leader, never through a proxy from the environment.
fn client() -> Result<&'static reqwest::Client, String> {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c);
    }
    let built = reqwest::Client::builder().timeout(TIMEOUT).no_proxy().build().map_err(|e| e.to_string())?;
    Ok(CLIENT.get_or_init(|| built))
}

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1), and the ones the
/// HTTP client sets itself.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection" | "keep-alive" | "proxy-connection" | "transfer-encoding" | "upgrade" | "te" | "trailer" | "host" | "content-length"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_go_to_the_leader_reads_stay() {
        for p in ["/api/begin-downtime/h/3306/me/why", "/api/relocate/h/1/t/2", "/api/ack-all-recoveries", "/api/disable-global-recoveries", "/api/forget/h/1", "/api/raft-add-peer/h:10008"] {
            assert!(is_write(&Method::GET, p), "{p}");
        }
        for p in ["/api/clusters", "/api/instance/h/1", "/api/raft-status", "/api/leader-check", "/api/audit-recovery", "/", "/web/clusters", "/_live/clusters"] {
            assert!(!is_write(&Method::GET, p), "{p}");
        }
        assert!(is_write(&Method::POST, "/_sfn/operate"));
        assert!(is_write(&Method::POST, "/_sfn/acknowledge"));
        assert!(!is_write(&Method::POST, "/_sfn/clusters"));
    }
}
