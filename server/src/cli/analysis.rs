//! `orchestrator -c replication-analysis`: one line per server with a problem or a structure
//! warning, as orchestrator's binary prints them:
//!
//! ```text
//! db1:3306 (cluster db1:3306): DeadMaster
//! db2:3306 (cluster db1:3306): AllIntermediateMasterReplicasNotReplicating, NoLoggingReplicasStructureWarning
//! ```
//!
//! Like the binary, entries skippable because of downtime are left out (the API includes them,
//! marked `SkippableDueToDowntime`), and nothing is printed when nothing is wrong.

use super::client::{segment, ApiClient};
use super::commands::{CommandSpec, Failure};
use super::Invocation;
use serde_json::Value;

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "replication-analysis",
    aliases: &[],
    summary: "Show failures and structure warnings in every known topology (or one cluster)",
    usage: "[-i host[:port] | --alias alias]\nPrints `host:port (cluster name): Analysis[, structure warnings]` per server with something\nto report; downtimed ones are left out. With -i or --alias, only that cluster.",
}];

/// Runs `replication-analysis`; returns the lines to print.
pub async fn execute(_spec: &CommandSpec, inv: &Invocation, api: &ApiClient) -> Result<Vec<String>, Failure> {
    let path = match (inv.alias.as_deref().map(str::trim).filter(|a| !a.is_empty()), inv.instance_text()) {
        (Some(alias), _) => format!("replication-analysis/{}", segment(alias)),
        (None, Some(text)) => {
            inv.instance()?;
            format!("replication-analysis/{}", segment(text))
        }
        (None, None) => "replication-analysis".to_string(),
    };
    let entries = api.call(&path).await?;
    Ok(entries.as_array().map(|list| list.iter().filter_map(entry_line).collect()).unwrap_or_default())
}

/// orchestrator's `%s (cluster %s): %s` with `AnalysisString()`; `None` for an entry with
/// nothing to say or one skippable because of downtime.
fn entry_line(e: &Value) -> Option<String> {
    if e["SkippableDueToDowntime"] == true {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    match e["Analysis"].as_str() {
        Some("NoProblem") | None => {}
        Some(code) => parts.push(code),
    }
    parts.extend(e["StructureAnalysis"].as_array().into_iter().flatten().filter_map(Value::as_str));
    if parts.is_empty() {
        return None;
    }
    let key = &e["AnalyzedInstanceKey"];
    let host = key["Hostname"].as_str().unwrap_or("");
    let port = key["Port"].as_u64().unwrap_or(0) as u16;
    let name = app::model::InstanceKey::new(host, port);
    let cluster = e["ClusterDetails"]["ClusterName"].as_str().unwrap_or("");
    Some(format!("{name} (cluster {cluster}): {}", parts.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(analysis: &str, warnings: Value, skippable: bool) -> Value {
        json!({
            "AnalyzedInstanceKey": {"Hostname": "db1", "Port": 3306},
            "ClusterDetails": {"ClusterName": "db1:3306"},
            "Analysis": analysis,
            "StructureAnalysis": warnings,
            "SkippableDueToDowntime": skippable,
        })
    }

    #[test]
    fn lines_are_orchestrators() {
        assert_eq!(entry_line(&entry("DeadMaster", json!([]), false)).unwrap(), "db1:3306 (cluster db1:3306): DeadMaster");
        assert_eq!(
            entry_line(&entry("DeadMaster", json!(["NoLoggingReplicasStructureWarning"]), false)).unwrap(),
            "db1:3306 (cluster db1:3306): DeadMaster, NoLoggingReplicasStructureWarning"
        );
        assert_eq!(
            entry_line(&entry("NoProblem", json!(["ErrantGTIDStructureWarning"]), false)).unwrap(),
            "db1:3306 (cluster db1:3306): ErrantGTIDStructureWarning"
        );
        assert_eq!(entry_line(&entry("NoProblem", json!([]), false)), None);
        assert_eq!(entry_line(&entry("NoProblem", Value::Null, false)), None, "orchestrator's null list");
        assert_eq!(entry_line(&entry("DeadMaster", json!([]), true)), None, "downtimed");
    }
}
