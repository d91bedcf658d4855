//! Recovery control from the command line: acknowledgements (`ack-all-recoveries`,
//! `ack-cluster-recoveries`, `ack-instance-recoveries`, each with `--reason`), the global switch
//! (`disable-|enable-|check-global-recoveries`), observe-only mode (ours), and the records
//! (`audit-recovery`, `blocked-recoveries`), through the node's API as orchestrator-client does.

use super::client::{segment, ApiClient};
use super::commands::{cluster_hint, CommandSpec, Failure};
use super::Invocation;
use crate::intents::parse;
use serde_json::Value;

const fn cmd(name: &'static str, summary: &'static str, usage: &'static str) -> CommandSpec {
    CommandSpec { name, aliases: &[], summary, usage }
}

pub static COMMANDS: &[CommandSpec] = &[
    cmd("ack-all-recoveries", "Acknowledge every recovery, unblocking automated recoveries everywhere", "--reason text"),
    cmd("ack-cluster-recoveries", "Acknowledge a cluster's recoveries, unblocking its automated recovery", "-i host[:port] | --alias alias, --reason text\nAlso accepts the cluster's former name (its failed primary)."),
    cmd("ack-instance-recoveries", "Acknowledge the recoveries of one failed instance", "-i host[:port] --reason text"),
    cmd("disable-global-recoveries", "Stop every automated recovery on every cluster (detection goes on)", ""),
    cmd("enable-global-recoveries", "Allow automated recoveries again", ""),
    cmd("check-global-recoveries", "Print whether automated recoveries are enabled or disabled", ""),
    cmd("enable-observe-only", "Detect and record failures, run detection hooks, recover nothing", ""),
    cmd("disable-observe-only", "Leave observe-only mode: recover again", ""),
    cmd("check-observe-only", "Print whether observe-only mode is enabled or disabled", ""),
    cmd("graceful-master-takeover", "Planned switchover: the primary goes read-only, a replica catches up and is promoted, the old primary replicates from it (stopped)", "-i cluster|host[:port] [-d designated]\n-d names the replica to promote; without it, -i naming a direct replica of the primary promotes\nthat replica, else the primary's only direct replica is promoted."),
    cmd("graceful-master-takeover-auto", "Like graceful-master-takeover, choosing the replica if none is named, and starting the old primary's replication", "-i cluster|host[:port] [-d designated]"),
    cmd("force-master-takeover", "Treat the primary as dead now and promote the named replica (no catch-up)", "-i cluster|host[:port] [-d designated]\nWithout -d, -i must name the direct replica to promote."),
    cmd("force-master-failover", "Treat the primary as dead now and fail over to the best replica", "-i cluster|host[:port]"),
    cmd("recover", "Recover a failed primary now, bypassing filters and anti-flapping, optionally onto -d", "-i host[:port] [-d candidate]"),
    cmd("audit-recovery", "List recent recoveries (one line each), newest first", "[-i host[:port] | --alias alias]"),
    cmd("blocked-recoveries", "List failures whose recovery did not run, and why", ""),
];

fn comment(inv: &Invocation, command: &str) -> Result<String, Failure> {
    let text = inv.reason.as_deref().unwrap_or("");
    if text.trim().is_empty() {
        return Err(Failure::Usage(format!("{command} needs --reason <text>: why recovering again is safe")));
    }
    let text = parse::validate_text("--reason", text).map_err(Failure::Usage)?;
    Ok(format!("comment={}", segment(&text)))
}

/// Runs one of `COMMANDS`; returns the lines to print.
pub async fn execute(spec: &CommandSpec, inv: &Invocation, api: &ApiClient) -> Result<Vec<String>, Failure> {
    let word = |v: Value| vec![v.as_str().unwrap_or_default().to_string()];
    Ok(match spec.name {
        "ack-all-recoveries" => {
            let q = comment(inv, spec.name)?;
            vec![api.call(&format!("ack-all-recoveries?{q}")).await?.to_string()]
        }
        "ack-cluster-recoveries" => {
            let q = comment(inv, spec.name)?;
            let hint = cluster_hint(inv, api).await?;
            vec![api.call(&format!("ack-recovery/cluster/{}?{q}", segment(&hint))).await?.to_string()]
        }
        "ack-instance-recoveries" => {
            let k = inv.instance()?;
            let q = comment(inv, spec.name)?;
            vec![api.call(&format!("ack-recovery/instance/{}/{}?{q}", segment(&k.hostname), k.port)).await?.to_string()]
        }
        "disable-global-recoveries" | "enable-global-recoveries" | "enable-observe-only" | "disable-observe-only" => {
            api.call(spec.name).await?;
            Vec::new()
        }
        "check-global-recoveries" | "check-observe-only" => word(api.call(spec.name).await?),
        "graceful-master-takeover" | "graceful-master-takeover-auto" | "force-master-takeover" | "force-master-failover" | "recover" => {
            let hint = match spec.name {
                "recover" => inv.instance()?.to_string(),
                _ => cluster_hint(inv, api).await?,
            };
            let mut path = format!("{}/{}", spec.name, segment(&hint));
            if let Some(text) = inv.destination.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
                if spec.name == "force-master-failover" {
                    return Err(Failure::Usage("force-master-failover chooses the replica itself: -d is not accepted (use force-master-takeover)".into()));
                }
                let d = app::model::InstanceKey::parse(text, inv.default_port).map_err(|e| Failure::Usage(format!("-d {text:?}: {e}")))?;
                path.push_str(&format!("/{}/{}", segment(&d.hostname), d.port));
            }
            let answer = api.get(&path).await?;
            let message = answer["Message"].as_str().unwrap_or_default().to_string();
            vec![message]
        }
        "audit-recovery" => {
            let path = match (inv.alias.as_deref(), inv.instance_text()) {
                (Some(alias), _) => format!("audit-recovery/alias/{}", segment(alias)),
                (None, Some(_)) => format!("audit-recovery/cluster/{}", segment(&cluster_hint(inv, api).await?)),
                (None, None) => "audit-recovery".to_string(),
            };
            let rows = api.get(&path).await?;
            rows.as_array().map(|a| a.iter().map(recovery_line).collect()).unwrap_or_default()
        }
        "blocked-recoveries" => {
            let rows = api.get("blocked-recoveries").await?;
            rows.as_array().map(|a| a.iter().map(blocked_line).collect()).unwrap_or_default()
        }
        other => return Err(Failure::Usage(format!("{other} is not a recovery command"))),
    })
}

fn key(v: &Value) -> String {
    format!("{}:{}", v["Hostname"].as_str().unwrap_or_default(), v["Port"])
}

/// `id  start  analysis  failed  -> successor  acknowledged|active  summary`.
fn recovery_line(r: &Value) -> String {
    let state = if r["Acknowledged"] == true {
        "acknowledged"
    } else if r["IsActive"] == true {
        "active"
    } else {
        "expired"
    };
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}",
        r["Id"],
        r["RecoveryStartTimestamp"].as_str().unwrap_or_default(),
        key(&r["FailedInstanceKey"]),
        if r["SuccessorKey"].is_null() { "-".to_string() } else { key(&r["SuccessorKey"]) },
        state,
        r["Summary"].as_str().unwrap_or_default()
    )
}

fn blocked_line(b: &Value) -> String {
    format!("{}\t{}\t{}\t{}", key(&b["FailedInstanceKey"]), b["ClusterName"].as_str().unwrap_or_default(), b["Analysis"].as_str().unwrap_or_default(), b["Reason"].as_str().unwrap_or_default())
}
