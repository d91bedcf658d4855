//! Raft on the command line: the leader, health, status and peers of the node's raft group, and
//! membership changes (`raft-add-peer`, `raft-remove-peer`) and snapshots, through the node's
//! `/api/raft-*` routes as orchestrator-client does. A node without raft answers every one of
//! them with "raft is not enabled on this node (RaftEnabled: false)" (exit 1).

use super::client::{segment, ApiClient};
use super::commands::{CommandSpec, Failure};
use super::Invocation;
use serde_json::Value;

const fn cmd(name: &'static str, summary: &'static str, usage: &'static str) -> CommandSpec {
    CommandSpec { name, aliases: &[], summary, usage }
}

pub static COMMANDS: &[CommandSpec] = &[
    cmd("raft-leader", "Print the raft address (host:port) of the raft leader", "\nFails when the node knows no leader (an election is going on, or it is cut off)."),
    cmd("raft-health", "Print healthy if the node is part of a healthy raft group; else fail", "\nExit status 1 when unhealthy."),
    cmd("raft-status", "Print the node's raft status as JSON (state, leader, peers, term, log indexes)", ""),
    cmd("raft-peers", "List the raft group's members (raft addresses, one per line)", ""),
    cmd("raft-add-peer", "Add a node to the raft group (sent to the leader)", "-i host:port\n-i is the new node's raft address (its RaftAdvertise, with the raft port)."),
    cmd("raft-remove-peer", "Remove a node from the raft group (sent to the leader)", "-i host:port\n-i is the node's raft address, as listed by raft-peers."),
    cmd("raft-snapshot", "Make the node take a raft snapshot now (compacting its log)", ""),
    cmd("raft-elect-leader", "Make a named node the raft leader (the others step aside)", "-i host:port | --hostname hint\n-i is the node's raft address as listed by raft-peers; a hint (orchestrator-client's form)\nnames the one peer whose address contains it."),
];

/// `-i` as a raft address `host:port` (no default port: the raft port is the node's setting).
fn peer_addr(inv: &Invocation) -> Result<String, Failure> {
    let text = inv.instance_text().ok_or_else(|| Failure::Usage("needs -i host:port (the peer's raft address)".into()))?;
    match text.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => Ok(text.to_string()),
        _ => Err(Failure::Usage(format!("-i {text:?} is not a raft address host:port"))),
    }
}

/// An envelope's `Details`, or its `Message` when `Details` is empty.
fn details_or_message(envelope: &Value) -> String {
    match envelope.get("Details") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Null | Value::String(_)) | None => text(&envelope["Message"]),
        Some(other) => other.to_string(),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `raft-status`'s fields in the node's order (serde_json's map would sort them).
const STATUS_FIELDS: &[&str] = &[
    "RaftBind", "RaftAdvertise", "State", "Healthy", "IsPartOfQuorum", "Leader", "LeaderURI", "Peers", "NodeId", "Term",
    "LastLogIndex", "LastApplied", "SnapshotIndex", "MillisSinceQuorumAck",
];

/// The status object as pretty JSON, known fields first in `STATUS_FIELDS` order, then any others.
fn status_lines(status: &Value) -> Vec<String> {
    let Some(fields) = status.as_object() else {
        return serde_json::to_string_pretty(status).unwrap_or_default().lines().map(str::to_string).collect();
    };
    let known = STATUS_FIELDS.iter().filter_map(|k| fields.get_key_value(*k));
    let others = fields.iter().filter(|(k, _)| !STATUS_FIELDS.contains(&k.as_str()));
    let entries: Vec<String> = known
        .chain(others)
        .map(|(k, v)| {
            let value = serde_json::to_string_pretty(v).unwrap_or_default().replace('\n', "\n  ");
            format!("  {}: {value}", Value::String(k.clone()))
        })
        .collect();
    if entries.is_empty() {
        return vec!["{}".to_string()];
    }
    format!("{{\n{}\n}}", entries.join(",\n")).lines().map(str::to_string).collect()
}

/// Runs one of `COMMANDS`; returns the lines to print.
pub async fn execute(spec: &CommandSpec, inv: &Invocation, api: &ApiClient) -> Result<Vec<String>, Failure> {
    Ok(match spec.name {
        "raft-leader" => {
            // As orchestrator-client: the state first, so a node without raft says so.
            api.get("raft-state").await?;
            vec![text(&api.get("raft-leader").await?)]
        }
        "raft-health" => vec![text(&api.get("raft-health").await?)],
        "raft-status" => {
            let status = api.get("raft-status").await?;
            status_lines(&status)
        }
        "raft-peers" => api.get("raft-peers").await?.as_array().map(|a| a.iter().map(text).collect()).unwrap_or_default(),
        "raft-add-peer" | "raft-remove-peer" => {
            let addr = peer_addr(inv)?;
            vec![details_or_message(&api.get(&format!("{}/{}", spec.name, segment(&addr))).await?)]
        }
        "raft-snapshot" => vec![details_or_message(&api.get("raft-snapshot").await?)],
        "raft-elect-leader" => {
            let path = match (inv.instance_text(), inv.hostname.as_deref().map(str::trim).filter(|h| !h.is_empty())) {
                (Some(_), _) => format!("raft-yield/{}", segment(&peer_addr(inv)?)),
                (None, Some(hint)) => format!("raft-yield-hint/{}", segment(hint)),
                (None, None) => return Err(Failure::Usage("needs -i host:port (the raft address of the node to elect) or --hostname hint".into())),
            };
            vec![details_or_message(&api.get(&path).await?)]
        }
        other => return Err(Failure::Usage(format!("{other} is not a raft command"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with_instance(i: Option<&str>) -> Invocation {
        Invocation { instance: i.map(str::to_string), ..Default::default() }
    }

    #[test]
    fn every_command_resolves_and_has_help() {
        for c in COMMANDS {
            assert_eq!(super::super::commands::lookup(c.name).unwrap().name, c.name);
            assert!(!c.summary.is_empty(), "{}", c.name);
        }
    }

    #[test]
    fn peers_need_a_raft_address() {
        assert_eq!(peer_addr(&with_instance(Some(" node2:10008 "))).ok(), Some("node2:10008".to_string()));
        for bad in [None, Some(""), Some("node2"), Some(":10008"), Some("node2:0"), Some("node2:x")] {
            assert!(matches!(peer_addr(&with_instance(bad)), Err(Failure::Usage(_))), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn membership_changes_without_dash_i_are_usage_errors_before_any_call() {
        // Nothing listens on port 9: a request would be an Operation failure, not Usage.
        let api = ApiClient::connect("http://127.0.0.1:9").await;
        for name in ["raft-add-peer", "raft-remove-peer"] {
            let spec = super::super::commands::lookup(name).unwrap();
            let outcome = execute(spec, &with_instance(None), &api).await;
            assert!(matches!(outcome, Err(Failure::Usage(m)) if m.contains("-i host:port")), "{name}");
        }
    }

    #[test]
    fn status_keeps_the_nodes_field_order_and_is_json() {
        let status = json!({"Term": 3, "State": "Leader", "Peers": ["a:1", "b:2"], "RaftBind": "a:1", "Extra": {"x": 1}});
        let lines = status_lines(&status);
        let keys: Vec<&str> = lines.iter().filter(|l| l.starts_with("  \"")).map(|l| l.trim().split('"').nth(1).unwrap()).collect();
        assert_eq!(keys, ["RaftBind", "State", "Peers", "Term", "Extra"]);
        assert_eq!(serde_json::from_str::<Value>(&lines.join("\n")).unwrap(), status);
        assert_eq!(status_lines(&json!({})), ["{}"]);
    }

    #[test]
    fn envelopes_print_details_or_message() {
        assert_eq!(details_or_message(&json!({"Code": "OK", "Message": "raft peer added: n2:10008", "Details": "n2:10008"})), "n2:10008");
        assert_eq!(details_or_message(&json!({"Code": "OK", "Message": "raft snapshot requested", "Details": null})), "raft snapshot requested");
    }
}
