//! Live updates for open pages: `GET /_live/clusters` is a server-sent event stream. It sends
//! every cluster with its members (`clusters` events, the same JSON as the `clusters` server
//! function) as soon as what the node knows changes, checked every `CHECK`, and a `ping` every
//! `PING` so a page can tell a quiet node from an unreachable one. The stream ends when the node
//! stops.

use super::AppState;
use crate::topology::clusters;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures::stream::Stream;
use std::convert::Infallible;
use std::time::{Duration, Instant};

/// How often the stream compares what the node knows with what it last sent.
const CHECK: Duration = Duration::from_millis(200);
/// How often a quiet stream says it is alive.
pub const PING: Duration = Duration::from_secs(2);

pub fn routes() -> Router<AppState> {
    Router::new().route("/_live/clusters", get(clusters_stream))
}

async fn clusters_stream(State(state): State<AppState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    struct Cursor {
        state: AppState,
        last: String,
        last_sent: Instant,
        first: bool,
    }
    let cursor = Cursor { state, last: String::new(), last_sent: Instant::now(), first: true };
    let stream = futures::stream::unfold(cursor, |mut c| async move {
        loop {
            if !c.first {
                tokio::select! {
                    _ = tokio::time::sleep(CHECK) => {}
                    // The node is stopping: end the stream (the page shows it is stale).
                    _ = c.state.shutdown.cancelled() => return None,
                }
            }
            if c.state.shutdown.is_cancelled() {
                return None;
            }
            c.first = false;
            let overview = clusters::overview(&c.state.discovery.instances(), &c.state.settings.recovery_filters);
            let json = serde_json::to_string(&overview).unwrap_or_else(|_| "[]".into());
            if json != c.last {
                c.last_sent = Instant::now();
                let event = Event::default().event("clusters").data(json.clone());
                c.last = json;
                return Some((Ok(event), c));
            }
            if c.last_sent.elapsed() >= PING {
                c.last_sent = Instant::now();
                return Some((Ok(Event::default().event("ping").data("")), c));
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
