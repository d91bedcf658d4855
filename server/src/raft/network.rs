//! Raft RPCs over HTTP between orchestrator nodes.
//!
//! Each RPC is a POST of the request as JSON to the peer's raft listener (`Peer::raft`):
//! `/raft/append`, `/raft/vote`, `/raft/snapshot` (openraft's chunked v1 snapshot transfer). The
//! answer is the peer's own `Result<Response, RaftError>` as JSON, so a raft-level refusal reaches
//! openraft as `RPCError::RemoteError`; anything that kept the request from reaching raft on the
//! peer (refused connection, timeout, non-2xx status, garbled body) becomes `Unreachable` or
//! `NetworkError`, so openraft backs off and retries. `GET /raft/whoami?nonce=` tells who listens
//! at an address and proves (an HMAC of the nonce keyed by the secret) that it knows the cluster
//! secret; the leader asks it before adding a node, so the secret is never sent to a stranger.
//!
//! Every other request carries the cluster secret in `X-Raft-Secret`; the server side compares it
//! in constant time before anything else and answers 401 when it is missing or wrong. Raft
//! traffic is plain HTTP: run it on a private network (orchestrator's raft had no secret at all). The shared
//! `isolated` flag is a test fail point: while set, this node neither sends (every RPC fails at
//! once as `Unreachable`) nor serves (503) raft traffic.

use super::types::{node_id, NodeId, Peer, Raft, TypeConfig};
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use openraft::error::{InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest,
    VoteResponse,
};
use openraft::AnyError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The header every raft request carries the cluster secret in.
pub const SECRET_HEADER: &str = "X-Raft-Secret";

/// Largest request body the raft routes accept: a snapshot chunk with room to spare.
const BODY_LIMIT: usize = 64 << 20;

/// What a request without the right secret is told.
const REFUSED: &str = "raft request refused: missing or wrong cluster secret";

/// How long `whoami` waits for an answer.
const WHOAMI_TIMEOUT: Duration = Duration::from_secs(10);

type RpcError<E = openraft::error::Infallible> = RPCError<NodeId, Peer, RaftError<NodeId, E>>;

// ---------------------------------------------------------------------------------------------
// Client side
// ---------------------------------------------------------------------------------------------

/// openraft's network factory: one `Connection` per peer, all sharing one HTTP client.
#[derive(Clone)]
pub struct Network {
    client: reqwest::Client,
    secret: Arc<str>,
    isolated: Arc<AtomicBool>,
}

impl Network {
    /// A network that sends `secret` with every RPC and sends nothing while `isolated` is set.
    pub fn new(secret: &str, isolated: Arc<AtomicBool>) -> Network {
        // Raft traffic goes straight to the peers, never through a proxy from the environment.
        let client = reqwest::Client::builder().no_proxy().build().unwrap_or_else(|_| reqwest::Client::new());
        Network { client, secret: Arc::from(secret), isolated }
    }
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Connection;

    async fn new_client(&mut self, target: NodeId, node: &Peer) -> Connection {
        Connection {
            client: self.client.clone(),
            secret: self.secret.clone(),
            isolated: self.isolated.clone(),
            target,
            peer: node.clone(),
        }
    }
}

/// The RPCs to one peer.
pub struct Connection {
    client: reqwest::Client,
    secret: Arc<str>,
    isolated: Arc<AtomicBool>,
    target: NodeId,
    peer: Peer,
}

impl Connection {
    /// POSTs `req` to `path` on the peer and decodes its `Result<Resp, RaftError<E>>`.
    async fn call<Req, Resp, E>(&self, path: &str, req: &Req, option: &RPCOption) -> Result<Resp, RpcError<E>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        if self.isolated.load(Ordering::Relaxed) {
            return Err(unreachable(format!("raft {path} to {}: this node's raft traffic is cut", self.peer.raft)));
        }
        let url = format!("http://{}{path}", self.peer.raft);
        // Answer before openraft's own hard deadline, so that a slow peer reads as unreachable.
        let ttl = option.soft_ttl().max(Duration::from_millis(1));
        let sent = self
            .client
            .post(&url)
            .header(SECRET_HEADER, &*self.secret)
            .timeout(ttl)
            .json(req)
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) if e.is_connect() || e.is_timeout() => {
                return Err(unreachable(format!("POST {url}: {}", describe(&e))));
            }
            Err(e) => return Err(network_error(format!("POST {url}: {}", describe(&e)))),
        };
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            return Err(unreachable(format!("POST {url}: {status}: {}", message_of(&body))));
        }
        let answer: Result<Resp, RaftError<NodeId, E>> = match resp.json().await {
            Ok(a) => a,
            Err(e) if e.is_timeout() => return Err(unreachable(format!("POST {url}: {}", describe(&e)))),
            Err(e) => return Err(network_error(format!("POST {url}: bad answer: {}", describe(&e)))),
        };
        answer.map_err(|e| RPCError::RemoteError(RemoteError::new_with_node(self.target, self.peer.clone(), e)))
    }
}

impl RaftNetwork<TypeConfig> for Connection {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RpcError> {
        self.call("/raft/append", &rpc, &option).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse<NodeId>, RpcError<InstallSnapshotError>> {
        self.call("/raft/snapshot", &rpc, &option).await
    }

    async fn vote(&mut self, rpc: VoteRequest<NodeId>, option: RPCOption) -> Result<VoteResponse<NodeId>, RpcError> {
        self.call("/raft/vote", &rpc, &option).await
    }
}

fn unreachable<E: std::error::Error>(msg: String) -> RpcError<E> {
    RPCError::Unreachable(Unreachable::from(AnyError::error(msg)))
}

fn network_error<E: std::error::Error>(msg: String) -> RpcError<E> {
    RPCError::Network(NetworkError::from(AnyError::error(msg)))
}

/// An error with its chain of causes ("error sending request …: connection refused").
fn describe(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let c = cause.to_string();
        if !s.ends_with(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        source = cause.source();
    }
    s
}

/// The `Message` of an error body, else the body itself (shortened).
fn message_of(body: &str) -> String {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
        if let Some(m) = v.get("Message").and_then(|m| m.as_str()) {
            return m.to_string();
        }
    }
    let body = body.trim();
    match body.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &body[..i]),
        None => body.to_string(),
    }
}

/// What `GET /raft/whoami` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct WhoAmI {
    id: NodeId,
    raft: String,
    api: String,
    /// `proof(secret, nonce, raft)`.
    proof: String,
}

/// Asks the raft listener at `raft_addr` (`host:port`) who it is: its node id and its `Peer`.
/// The cluster secret is not sent: the node proves that it knows it by answering a fresh nonce
/// with `proof(secret, nonce, its raft address)`, so naming a stranger's address in
/// `raft-add-peer` reveals nothing and adds nothing.
pub async fn whoami(client: &reqwest::Client, raft_addr: &str, secret: &str) -> Result<(NodeId, Peer), String> {
    let nonce = format!("{:032x}", rand::random::<u128>());
    let url = format!("http://{}/raft/whoami?nonce={nonce}", raft_addr.trim());
    let resp = client.get(&url).timeout(WHOAMI_TIMEOUT).send().await.map_err(|e| format!("GET {url}: {}", describe(&e)))?;
    let status = resp.status();
    if !status.is_success() {
        let body = resp.text().await.unwrap_or_default();
        return Err(format!("GET {url}: {status}: {}", message_of(&body)));
    }
    let me: WhoAmI = resp.json().await.map_err(|e| format!("GET {url}: bad answer: {}", describe(&e)))?;
    let expected = proof(secret, &nonce, &me.raft);
    if !secret_matches(me.proof.as_bytes(), expected.as_bytes()) {
        return Err(format!("the node at {raft_addr} does not know this cluster's RaftSecret: refused"));
    }
    if me.id != node_id(&me.raft) {
        return Err(format!("the node at {raft_addr} names itself {} with id {:016x}, which is not that address's id", me.raft, me.id));
    }
    Ok((me.id, Peer { raft: me.raft, api: me.api }))
}

/// HMAC-SHA256 of the nonce and the raft address, keyed by the cluster secret, as hex.
fn proof(secret: &str, nonce: &str, raft: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(b"orchestrator-raft-whoami\0");
    mac.update(nonce.as_bytes());
    mac.update(b"\0");
    mac.update(raft.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// Server side
// ---------------------------------------------------------------------------------------------

/// The raft routes of the node `me`, guarded by `secret` and `isolated`.
pub fn router(raft: Raft, secret: &str, me: Peer, isolated: Arc<AtomicBool>) -> Router {
    let rpcs = Router::new()
        .route("/raft/append", post(append))
        .route("/raft/vote", post(vote))
        .route("/raft/snapshot", post(snapshot))
        .route("/raft/yield", post(yield_to))
        .with_state(raft);
    guard(rpcs, secret, isolated.clone()).merge(whoami_routes(me, secret, isolated)).layer(DefaultBodyLimit::max(BODY_LIMIT))
}

async fn append(
    State(raft): State<Raft>,
    Json(req): Json<AppendEntriesRequest<TypeConfig>>,
) -> Json<Result<AppendEntriesResponse<NodeId>, RaftError<NodeId>>> {
    Json(raft.append_entries(req).await)
}

async fn vote(
    State(raft): State<Raft>,
    Json(req): Json<VoteRequest<NodeId>>,
) -> Json<Result<VoteResponse<NodeId>, RaftError<NodeId>>> {
    Json(raft.vote(req).await)
}

async fn snapshot(
    State(raft): State<Raft>,
    Json(req): Json<InstallSnapshotRequest<TypeConfig>>,
) -> Json<Result<InstallSnapshotResponse<NodeId>, RaftError<NodeId, InstallSnapshotError>>> {
    Json(raft.install_snapshot(req).await)
}

/// `POST /raft/yield`: step aside for a while so that `to` can be elected (`raft-elect-leader`).
async fn yield_to(State(raft): State<Raft>, Json(req): Json<YieldRequest>) -> Json<bool> {
    super::consensus::step_aside(raft, req.to, std::time::Duration::from_millis(req.millis.min(30_000)));
    Json(true)
}

/// What `raft-elect-leader` asks of every node.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct YieldRequest {
    /// The node to elect.
    pub to: NodeId,
    /// How long the others hold back.
    pub millis: u64,
}

/// Asks the node at `raft_addr` to step aside for `req.to`.
pub async fn ask_to_yield(client: &reqwest::Client, raft_addr: &str, secret: &str, req: &YieldRequest) -> Result<(), String> {
    let resp = client
        .post(format!("http://{raft_addr}/raft/yield"))
        .header(SECRET_HEADER, secret)
        .json(req)
        .send()
        .await
        .map_err(|e| format!("{raft_addr}: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("{raft_addr} answered {}", resp.status()));
    }
    Ok(())
}

#[derive(Deserialize)]
struct Nonce {
    nonce: Option<String>,
}

/// `GET /raft/whoami?nonce=`: who this node is, with the proof that it knows the secret. Open
/// (the asker may not be a member yet), but it answers only a well-formed nonce.
fn whoami_routes(me: Peer, secret: &str, isolated: Arc<AtomicBool>) -> Router {
    let secret: Arc<str> = Arc::from(secret);
    Router::new().route(
        "/raft/whoami",
        get(move |Query(q): Query<Nonce>| async move {
            if isolated.load(Ordering::Relaxed) {
                return refusal(StatusCode::SERVICE_UNAVAILABLE, "raft traffic of this node is cut");
            }
            let nonce = q.nonce.unwrap_or_default();
            if !(16..=128).contains(&nonce.len()) || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
                return refusal(StatusCode::BAD_REQUEST, "whoami needs ?nonce= (16 to 128 hex digits)");
            }
            let proof = proof(&secret, &nonce, &me.raft);
            Json(WhoAmI { id: node_id(&me.raft), raft: me.raft.clone(), api: me.api.clone(), proof }).into_response()
        }),
    )
}

#[derive(Clone)]
struct Guard {
    secret: Arc<str>,
    isolated: Arc<AtomicBool>,
}

/// Wraps every route of `routes` in the secret check and the isolation fail point.
fn guard(routes: Router, secret: &str, isolated: Arc<AtomicBool>) -> Router {
    routes.layer(middleware::from_fn_with_state(Guard { secret: Arc::from(secret), isolated }, check))
}

async fn check(State(g): State<Guard>, req: Request, next: Next) -> Response {
    let given = req.headers().get(SECRET_HEADER);
    if !given.is_some_and(|v| secret_matches(v.as_bytes(), g.secret.as_bytes())) {
        return refusal(StatusCode::UNAUTHORIZED, REFUSED);
    }
    if g.isolated.load(Ordering::Relaxed) {
        return refusal(StatusCode::SERVICE_UNAVAILABLE, "raft traffic of this node is cut");
    }
    next.run(req).await
}

fn refusal(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "Code": "ERROR", "Message": message }))).into_response()
}

/// True when `given` equals `expected`, in a time that depends only on `expected`'s length.
fn secret_matches(given: &[u8], expected: &[u8]) -> bool {
    let mut diff = u8::from(given.len() != expected.len());
    for (i, e) in expected.iter().enumerate() {
        diff |= given.get(i).copied().unwrap_or(0) ^ e;
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use openraft::error::Fatal;
    use tower::ServiceExt;

    #[test]
    fn secret_compare() {
        assert!(secret_matches(b"s3cret", b"s3cret"));
        assert!(secret_matches(b"", b""));
        assert!(!secret_matches(b"s3creT", b"s3cret"));
        assert!(!secret_matches(b"s3cre", b"s3cret"));
        assert!(!secret_matches(b"s3crett", b"s3cret"));
        assert!(!secret_matches(b"", b"s3cret"));
        assert!(!secret_matches(b"s3cret", b""));
        // A prefix padded with the zero bytes the loop reads past the end must not match.
        assert!(!secret_matches(b"ab", b"ab\0"));
    }

    fn me() -> Peer {
        Peer { raft: "node1:10008".into(), api: "http://node1:3000".into() }
    }

    async fn ask(app: Router, secret: Option<&str>) -> (StatusCode, serde_json::Value) {
        let mut req = Request::builder().method("GET").uri("/raft/ping");
        if let Some(s) = secret {
            req = req.header(SECRET_HEADER, s);
        }
        let resp = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null))
    }

    #[tokio::test]
    async fn guard_refuses_missing_or_wrong_secret() {
        let isolated = Arc::new(AtomicBool::new(false));
        let ping = Router::new().route("/raft/ping", get(|| async { Json(serde_json::json!("pong")) }));
        let app = guard(ping, "s3cret", isolated.clone());
        let refused = serde_json::json!({ "Code": "ERROR", "Message": REFUSED });

        assert_eq!(ask(app.clone(), None).await, (StatusCode::UNAUTHORIZED, refused.clone()));
        assert_eq!(ask(app.clone(), Some("wrong")).await, (StatusCode::UNAUTHORIZED, refused.clone()));
        assert_eq!(ask(app.clone(), Some("")).await, (StatusCode::UNAUTHORIZED, refused));

        assert_eq!(ask(app.clone(), Some("s3cret")).await, (StatusCode::OK, serde_json::json!("pong")));

        isolated.store(true, Ordering::Relaxed);
        assert_eq!(ask(app.clone(), Some("s3cret")).await.0, StatusCode::SERVICE_UNAVAILABLE);
        // The secret is still checked first.
        assert_eq!(ask(app, Some("wrong")).await.0, StatusCode::UNAUTHORIZED);
    }

    /// Serves `app` on a free local port; returns its `host:port`.
    async fn serve(app: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr.to_string()
    }

    async fn connect(secret: &str, isolated: bool, raft_addr: &str) -> Connection {
        let mut net = Network::new(secret, Arc::new(AtomicBool::new(isolated)));
        let peer = Peer { raft: raft_addr.into(), api: "http://unused".into() };
        net.new_client(node_id(raft_addr), &peer).await
    }

    fn vote_req() -> VoteRequest<NodeId> {
        VoteRequest::new(openraft::Vote::new(1, 1), None)
    }

    fn option() -> RPCOption {
        RPCOption::new(Duration::from_secs(5))
    }

    #[tokio::test]
    async fn client_maps_failures() {
        // A fake peer whose raft has stopped: its answer is a raft-level error.
        let stopped = Router::new().route(
            "/raft/vote",
            post(|Json(_): Json<VoteRequest<NodeId>>| async {
                Json(Err::<VoteResponse<NodeId>, RaftError<NodeId>>(RaftError::Fatal(Fatal::Stopped)))
            }),
        );
        let addr = serve(guard(stopped, "s3cret", Arc::new(AtomicBool::new(false)))).await;

        let err = connect("s3cret", false, &addr).await.vote(vote_req(), option()).await.unwrap_err();
        match err {
            RPCError::RemoteError(e) => {
                assert_eq!(e.target, node_id(&addr));
                assert_eq!(e.source, RaftError::Fatal(Fatal::Stopped));
            }
            e => panic!("expected a remote error, got {e:?}"),
        }

        let err = connect("wrong", false, &addr).await.vote(vote_req(), option()).await.unwrap_err();
        assert!(matches!(&err, RPCError::Unreachable(_)), "{err:?}");
        assert!(err.to_string().contains(REFUSED), "{err}");

        let err = connect("s3cret", true, &addr).await.vote(vote_req(), option()).await.unwrap_err();
        assert!(matches!(&err, RPCError::Unreachable(_)), "{err:?}");

        // Nobody listens there any more.
        let gone = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().to_string();
        let err = connect("s3cret", false, &gone).await.vote(vote_req(), option()).await.unwrap_err();
        assert!(matches!(&err, RPCError::Unreachable(_)), "{err:?}");
    }

    #[tokio::test]
    async fn whoami_asks_the_peer() {
        let addr = serve(whoami_routes(me(), "s3cret", Arc::new(AtomicBool::new(false)))).await;
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        assert_eq!(whoami(&client, &addr, "s3cret").await, Ok((node_id("node1:10008"), me())));
        // A node that does not know our secret is refused, and it was never sent ours.
        let err = whoami(&client, &addr, "another-secret").await.unwrap_err();
        assert!(err.contains("does not know this cluster's RaftSecret"), "{err}");
        let bare = client.get(format!("http://{addr}/raft/whoami")).send().await.unwrap();
        assert_eq!(bare.status().as_u16(), 400, "no nonce, no answer");
    }
}
