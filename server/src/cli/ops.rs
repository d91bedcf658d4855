//! Topology operations on the command line: `relocate`, `move-up`, `stop-replica`, ... and the
//! read-only checks next to them (`can-replicate-from`, `is-replicating`, `which-gtid-errant`).
//! `--noop` prints the plan (every statement per server) and changes nothing.

use super::client::{segment, ApiClient};
use super::commands::{CommandSpec, Failure};
use super::Invocation;
use app::model::InstanceKey;
use serde_json::Value;

const fn op(name: &'static str, aliases: &'static [&'static str], summary: &'static str, usage: &'static str) -> CommandSpec {
    CommandSpec { name, aliases, summary, usage }
}

const TARGET: &str = "-i host[:port] -d host[:port] [--noop]";
const ONE: &str = "-i host[:port] [--noop]";

/// A `static`, not a `const`: dispatch (`commands::is_in`) compares entries by address, and a
/// const's array may be duplicated per use.
pub static COMMANDS: &[CommandSpec] = &[
    op("relocate", &["relocate-below"], "Move an instance below another by the best mechanism (GTID, move-below, move-up, repoint)", TARGET),
    op("relocate-replicas", &["relocate-slaves"], "Move the replicas of an instance below another", "-i host[:port] -d host[:port] [--pattern regex] [--noop]"),
    op("move-up", &[], "Make an instance replicate from its grandparent", ONE),
    op("move-up-replicas", &["move-up-slaves"], "Make the replicas of an instance replicate from its source", ONE),
    op("move-below", &[], "Make an instance replicate from its sibling", TARGET),
    op("move-gtid", &["move-below-gtid"], "Move an instance below another with GTID", TARGET),
    op("move-replicas-gtid", &["move-slaves-gtid"], "Move the replicas of an instance below another with GTID", TARGET),
    op("repoint", &[], "Point an instance at its source (or -d) again, keeping its coordinates", "-i host[:port] [-d host[:port]] [--noop]"),
    op("repoint-replicas", &["repoint-slaves"], "Repoint every replica of an instance", ONE),
    op("take-siblings", &["enslave-siblings"], "Make the siblings of an instance its replicas", ONE),
    op("take-master", &["enslave-master"], "Swap an instance with its source", ONE),
    op("make-co-master", &[], "Make an instance's source replicate from it (co-masters)", ONE),
    op("regroup-replicas", &["regroup-slaves"], "Promote the best replica of an instance over its siblings", ONE),
    op("stop-replica", &["stop-slave"], "Stop replication", ONE),
    op("start-replica", &["start-slave"], "Start replication", ONE),
    op("restart-replica", &["restart-slave"], "Stop and start replication", ONE),
    op("stop-replica-nice", &["stop-slave-nice"], "Stop the IO thread, apply the relay log, then stop", ONE),
    op("reset-replica", &["reset-slave"], "Stop replication and forget the source (RESET REPLICA ALL)", ONE),
    op("detach-replica-master-host", &["detach-replica", "detach-slave", "detach-slave-master-host"], "Break replication reversibly (source host becomes //host)", ONE),
    op("reattach-replica-master-host", &["reattach-replica", "reattach-slave", "reattach-slave-master-host"], "Undo detach-replica-master-host", ONE),
    op("skip-query", &[], "Skip the statement replication stopped on", ONE),
    op("set-read-only", &[], "SET GLOBAL read_only=1", ONE),
    op("set-writeable", &[], "SET GLOBAL read_only=0", ONE),
    op("enable-semi-sync-master", &[], "Enable semi-sync on the source side", ONE),
    op("disable-semi-sync-master", &[], "Disable semi-sync on the source side", ONE),
    op("enable-semi-sync-replica", &[], "Enable semi-sync on the replica side", ONE),
    op("disable-semi-sync-replica", &[], "Disable semi-sync on the replica side", ONE),
    op("delay-replication", &[], "Set the replication delay, keeping the threads as they were", "-i host[:port] -S seconds [--noop]"),
    op("flush-binary-logs", &[], "Rotate the binary log", ONE),
    op("gtid-errant-inject-empty", &[], "Inject empty transactions for an instance's errant GTIDs on its primary", ONE),
    op("can-replicate-from", &[], "Print -d if -i could replicate from it; else say which rule refuses", "-i host[:port] -d host[:port]"),
    op("can-replicate-from-gtid", &[], "Like can-replicate-from, plus the purged-GTID check", "-i host[:port] -d host[:port]"),
    op("is-replicating", &[], "Print the instance if both replication threads run", "-i host[:port]"),
    op("is-replication-stopped", &[], "Print the instance if both replication threads are stopped", "-i host[:port]"),
    op("which-gtid-errant", &[], "Print the instance's errant GTID set", "-i host[:port]"),
    op("get-candidate-replica", &[], "Print the replica regroup-replicas would promote (changes nothing)", "-i host[:port]"),
];

/// Commands that control one server's replication or settings (they move nothing).
const CONTROL: &[&str] = &[
    "stop-replica",
    "start-replica",
    "restart-replica",
    "stop-replica-nice",
    "reset-replica",
    "detach-replica-master-host",
    "reattach-replica-master-host",
    "skip-query",
    "set-read-only",
    "set-writeable",
    "enable-semi-sync-master",
    "disable-semi-sync-master",
    "enable-semi-sync-replica",
    "disable-semi-sync-replica",
    "delay-replication",
    "flush-binary-logs",
    "gtid-errant-inject-empty",
];

fn key_path(k: &InstanceKey) -> String {
    format!("{}/{}", segment(&k.hostname), k.port)
}

fn destination(inv: &Invocation) -> Result<InstanceKey, Failure> {
    let text = inv.destination.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let text = text.ok_or_else(|| Failure::Usage("this command needs -d host[:port]".into()))?;
    InstanceKey::parse(text, inv.default_port).map_err(|e| Failure::Usage(format!("-d {text:?}: {e}")))
}

/// Runs an operation command; returns the lines to print.
pub async fn execute(spec: &CommandSpec, inv: &Invocation, api: &ApiClient) -> Result<Vec<String>, Failure> {
    let i = inv.instance()?;
    match spec.name {
        "can-replicate-from" | "can-replicate-from-gtid" => {
            let d = destination(inv)?;
            let answer = api.get(&format!("{}/{}/{}", spec.name, key_path(&i), key_path(&d))).await?;
            if answer["Details"]["CanReplicate"] == true {
                return Ok(vec![d.to_string()]);
            }
            return Err(Failure::Operation(text(&answer["Message"])));
        }
        "get-candidate-replica" => {
            let answer = api.get(&format!("get-candidate-replica/{}", key_path(&i))).await?;
            return Ok(vec![key_text(&answer["Details"]["Key"])]);
        }
        "is-replicating" | "is-replication-stopped" | "which-gtid-errant" => {
            let inst = api.get(&format!("instance/{}", key_path(&i))).await?;
            let (io, sql) = (inst["ReplicationIOThreadRuning"] == true, inst["ReplicationSQLThreadRuning"] == true);
            return Ok(match spec.name {
                "is-replicating" if io && sql => vec![i.to_string()],
                "is-replication-stopped" if !io && !sql && inst["MasterKey"]["Hostname"] != "" => vec![i.to_string()],
                "which-gtid-errant" => vec![text(&inst["GtidErrant"])].into_iter().filter(|s| !s.is_empty()).collect(),
                _ => vec![],
            });
        }
        _ => {}
    }
    let mut path = format!("{}/{}", spec.name, key_path(&i));
    let mut query: Vec<String> = Vec::new();
    match spec.name {
        "relocate" | "relocate-replicas" | "move-below" | "move-gtid" | "move-replicas-gtid" => {
            path.push('/');
            path.push_str(&key_path(&destination(inv)?));
        }
        "repoint" if inv.destination.is_some() => {
            path.push('/');
            path.push_str(&key_path(&destination(inv)?));
        }
        "delay-replication" => {
            let seconds = inv.seconds.ok_or_else(|| Failure::Usage("delay-replication needs -S <seconds>".into()))?;
            path.push_str(&format!("/{seconds}"));
        }
        _ => {}
    }
    if let Some(p) = &inv.pattern {
        regex::Regex::new(p).map_err(|e| Failure::Usage(format!("--pattern {p:?} is not a regular expression: {}", one_line(&e.to_string()))))?;
        query.push(format!("pattern={}", segment(p)));
    }
    if inv.noop {
        query.push("dry_run=true".into());
    }
    if !query.is_empty() {
        path.push('?');
        path.push_str(&query.join("&"));
    }
    let answer = api.get(&path).await?;
    if inv.noop {
        return Ok(plan_lines(&answer["Details"]));
    }
    // Replica control prints the instance, as orchestrator does; detach's "move" to `//host` is
    // not a source anyone could use.
    if CONTROL.contains(&spec.name) {
        return Ok(vec![i.to_string()]);
    }
    let moved = answer["Operation"]["Moved"].as_array().cloned().unwrap_or_default();
    if !moved.is_empty() {
        return Ok(moved.iter().map(|m| format!("{}<{}", key_text(&m["Instance"]), key_text(&m["Source"]))).collect());
    }
    Ok(vec![i.to_string()])
}

/// A plan as the dry run prints it: a header, then `server  statement` lines.
fn plan_lines(plan: &Value) -> Vec<String> {
    let mut lines = vec![format!(
        "{} of {}{}{}: {} steps (dry run; nothing was changed)",
        text(&plan["Operation"]),
        key_text(&plan["Instance"]),
        plan.get("Target").filter(|t| !t.is_null()).map(|t| format!(" below {}", key_text(t))).unwrap_or_default(),
        match text(&plan["Mechanism"]).as_str() {
            "" => String::new(),
            m => format!(" using {m}"),
        },
        plan["Steps"].as_array().map(Vec::len).unwrap_or(0)
    )];
    for step in plan["Steps"].as_array().cloned().unwrap_or_default() {
        lines.push(format!("# {}", text(&step["Description"])));
        for sql in step["Statements"].as_array().cloned().unwrap_or_default() {
            lines.push(format!("{}\t{}", key_text(&step["Server"]), text(&sql)));
        }
    }
    lines
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn key_text(v: &Value) -> String {
    let host = text(&v["Hostname"]);
    if host.is_empty() {
        return String::new();
    }
    InstanceKey::new(host, v["Port"].as_u64().unwrap_or(0) as u16).to_string()
}

/// regex's error text spans several lines (pattern, caret, reason); the CLI prints one.
fn one_line(text: &str) -> String {
    text.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("invalid").to_string()
}
