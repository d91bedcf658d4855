//! The HTTP side of the command line: finds the node to talk to (the leader, when several API
//! addresses are given, as orchestrator-client does) and turns answers into values or errors.

use app::model::Envelope;
use serde_json::Value;
use std::time::Duration;

/// A failed call, as the user should read it on one line.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the orchestrator API at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The node answered with an error envelope (or a non-2xx status).
    #[error("{0}")]
    Refused(String),
    #[error("unexpected answer from {url}: {reason}")]
    BadAnswer { url: String, reason: String },
}

/// A client of one node's API.
pub struct ApiClient {
    base: String,
    http: reqwest::Client,
    auth: Option<(String, String)>,
}

/// Longest an operation may take (a discover waits for the server's probe).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
const LEADER_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

impl ApiClient {
    /// `apis` is `ORCHESTRATOR_API`/`--api`: one URL or a space-separated list; with several,
    /// the first that answers 200 to `/api/leader-check` is used (else the first one).
    pub async fn connect(apis: &str) -> ApiClient {
        let http = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().unwrap_or_default();
        let auth = match (std::env::var("ORCHESTRATOR_AUTH_USER"), std::env::var("ORCHESTRATOR_AUTH_PASSWORD")) {
            (Ok(u), Ok(p)) if !u.is_empty() => Some((u, p)),
            _ => None,
        };
        let candidates: Vec<String> = apis.split_whitespace().map(normalize_base).collect();
        let mut base = candidates.first().cloned().unwrap_or_else(|| normalize_base("http://127.0.0.1:3000"));
        if candidates.len() > 1 {
            for c in &candidates {
                let req = http.get(format!("{c}/leader-check")).timeout(LEADER_CHECK_TIMEOUT);
                if matches!(req.send().await, Ok(r) if r.status().is_success()) {
                    base = c.clone();
                    break;
                }
            }
        }
        ApiClient { base, http, auth }
    }

    /// The API base URL in use (`…/api`), for `which-api`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// GETs `path` (relative to `/api/`) and returns the JSON answer. An error envelope or a
    /// non-2xx status becomes `Refused` with the node's message.
    pub async fn get(&self, path: &str) -> Result<Value, ClientError> {
        let url = format!("{}/{}", self.base, path.trim_start_matches('/'));
        let mut req = self.http.get(&url);
        if let Some((u, p)) = &self.auth {
            req = req.basic_auth(u, Some(p));
        }
        let resp = req.send().await.map_err(|e| ClientError::Unreachable { url: self.base.clone(), reason: short_reason(&e) })?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| ClientError::Unreachable { url: self.base.clone(), reason: short_reason(&e) })?;
        let value: Value = serde_json::from_str(&text).map_err(|_| {
            if status.is_success() {
                ClientError::BadAnswer { url: url.clone(), reason: "not JSON".into() }
            } else {
                ClientError::Refused(format!("{} ({status})", text.lines().next().unwrap_or("no message")))
            }
        })?;
        if let Some(env) = envelope_of(&value) {
            if !env.is_ok() {
                return Err(ClientError::Refused(env.message));
            }
        }
        if !status.is_success() {
            return Err(ClientError::Refused(format!("request failed with {status}")));
        }
        Ok(value)
    }

    /// Like `get`, for write calls: returns the envelope's `Details`.
    pub async fn call(&self, path: &str) -> Result<Value, ClientError> {
        let value = self.get(path).await?;
        Ok(value.get("Details").cloned().unwrap_or(value))
    }
}

/// The answer as orchestrator's envelope, if it is one. Only a JSON object with a `Code` is:
/// serde would also read a two- or three-element array (such as `/api/clusters` with two
/// clusters) as the struct's fields in order.
fn envelope_of(value: &Value) -> Option<Envelope> {
    value.as_object().filter(|o| o.contains_key("Code"))?;
    serde_json::from_value(value.clone()).ok()
}

fn normalize_base(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    let url = if url.contains("://") { url.to_string() } else { format!("http://{url}") };
    if url.ends_with("/api") {
        url
    } else {
        format!("{url}/api")
    }
}

fn short_reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    if e.is_connect() {
        return "connection refused or host unreachable".into();
    }
    let mut source: Option<&dyn std::error::Error> = Some(e);
    let mut last = e.to_string();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}

/// Encodes one path segment (a cluster alias or search text may hold anything).
pub fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_and_segments() {
        assert_eq!(normalize_base("http://h:3000"), "http://h:3000/api");
        assert_eq!(normalize_base("h:3001/"), "http://h:3001/api");
        assert_eq!(normalize_base("https://h/api"), "https://h/api");
        assert_eq!(segment("a b/c"), "a%20b%2Fc");
        assert_eq!(segment("db1:3306"), "db1:3306");
    }

    #[test]
    fn only_objects_with_a_code_are_envelopes() {
        assert!(envelope_of(&serde_json::json!(["db1:3306", "db2:3306"])).is_none());
        assert!(envelope_of(&serde_json::json!(["a", "b", null])).is_none());
        assert!(envelope_of(&serde_json::json!({"Message": "x"})).is_none());
        let refused = envelope_of(&serde_json::json!({"Code": "ERROR", "Message": "no", "Details": null})).unwrap();
        assert_eq!((refused.is_ok(), refused.message.as_str()), (false, "no"));
    }
}
