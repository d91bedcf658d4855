//! `orchestrator -c sql`: one read-only statement, printed as an aligned table.
//!
//! Two forms: `-i host:port -q "SELECT ..."` runs on that instance; the seed README's form,
//! `-i " SHOW PROCESSLIST"`, where `-i` holds the statement itself (it contains a space or starts
//! with a SQL keyword), runs on the primary of the only known cluster, or of `--alias`; with
//! several clusters and no `--alias` it lists them and asks for one (exit 2). A statement that
//! could write is refused here already (exit 2), and again by the node.

use super::client::{segment, ApiClient};
use super::commands::{CommandSpec, Failure};
use super::Invocation;
use crate::sql::classify::classify;
use crate::sql::render_table;
use app::model::InstanceKey;
use serde_json::Value;

/// A `static`, not a `const`: `commands::is_in` compares addresses, and each use of a `const`
/// may be a copy of its own.
pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "sql",
    aliases: &[],
    summary: "Run one read-only statement (SELECT, SHOW, EXPLAIN, DESCRIBE) on an instance; print a table",
    usage: "-i host[:port] -q \"SELECT ...\"\n   or: -i \"SHOW PROCESSLIST\" [--alias cluster]\nIn the second form the statement runs on the primary of the only known cluster (or of --alias).\nStatements that could write (INSERT, SET, SELECT ... INTO OUTFILE, FOR UPDATE, several\nstatements, ...) are refused.",
}];

/// Words that make `-i` a statement rather than an instance name.
const SQL_START: &[&str] = &["SELECT", "SHOW", "EXPLAIN", "DESCRIBE", "DESC", "WITH", "TABLE", "VALUES"];

/// Whether `-i` holds a statement (the seed's `-c sql -i " SHOW PROCESSLIST"`): instance names
/// hold no spaces.
pub fn looks_like_statement(text: &str) -> bool {
    let text = text.trim();
    let first: String = text.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    text.contains(char::is_whitespace) || text.starts_with(['(', '/', '#', '-']) || SQL_START.contains(&first.to_ascii_uppercase().as_str())
}

/// Runs `sql`; returns the lines to print.
pub async fn execute(_spec: &CommandSpec, inv: &Invocation, api: &ApiClient) -> Result<Vec<String>, Failure> {
    let nonblank = |s: &&str| !s.trim().is_empty();
    let statement = inv.statement.as_deref().filter(nonblank);
    let instance = inv.instance.as_deref().filter(nonblank);
    let (target, text) = match (statement, instance) {
        (Some(q), Some(_)) => (Some(inv.instance()?), q),
        (Some(q), None) => (None, q),
        (None, Some(i)) if looks_like_statement(i) => (None, i),
        (None, _) => return Err(Failure::Usage("sql needs a statement: -i host:port -q \"SELECT ...\"".into())),
    };
    let statement = classify(text).map_err(|e| Failure::Usage(e.to_string()))?;
    let key = match target {
        Some(k) => k,
        None => primary(inv, api).await?,
    };
    let answer = api.get(&format!("sql/{}/{}?q={}", segment(&key.hostname), key.port, segment(&statement.text))).await?;
    let columns: Vec<String> = array(&answer["Columns"]).iter().map(text_of).collect();
    let rows: Vec<Vec<Option<String>>> =
        array(&answer["Rows"]).iter().map(|r| array(r).iter().map(|v| v.as_str().map(str::to_string)).collect()).collect();
    let mut lines = render_table(&columns, &rows);
    if answer["Truncated"] == true {
        lines.push(format!("(only the first {} rows are shown)", rows.len()));
    }
    Ok(lines)
}

/// The primary of `--alias`'s cluster, else of the only known cluster.
async fn primary(inv: &Invocation, api: &ApiClient) -> Result<InstanceKey, Failure> {
    let hint = match inv.alias.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => a.to_string(),
        None => {
            let names: Vec<String> = array(&api.get("clusters").await?).iter().map(text_of).collect();
            match names.as_slice() {
                [one] => one.clone(),
                [] => return Err(Failure::Operation("no clusters known yet; discover one with `-c discover -i host:port`".into())),
                many => {
                    return Err(Failure::Usage(format!(
                        "several clusters are known ({}); choose one with --alias <cluster>, or run on an instance with -i host:port -q \"...\"",
                        many.join(", ")
                    )))
                }
            }
        }
    };
    let master = api.get(&format!("master/{}", segment(&hint))).await?;
    let host = text_of(&master["Key"]["Hostname"]);
    let port = master["Key"]["Port"].as_u64().unwrap_or(0) as u16;
    InstanceKey::from_parts(&host, port).map_err(|e| Failure::Operation(format!("cluster {hint} has no usable primary: {e}")))
}

fn array(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_in_dash_i_are_told_from_instance_names() {
        for statement in [" SHOW PROCESSLIST", "select 1", "SHOW", "desc", "/* x */ SELECT 1", "(SELECT 1)", "DELETE FROM t"] {
            assert!(looks_like_statement(statement), "{statement:?}");
        }
        for name in ["db1:3306", "db1", "127.0.0.1:3306", "selector-db:3306", "showroom"] {
            assert!(!looks_like_statement(name), "{name:?}");
        }
    }
}
