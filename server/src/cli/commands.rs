//! The commands of `orchestrator -c <command>`: their names (with orchestrator's legacy
//! `*slave*` aliases), help texts, and what each asks the API and prints.

use super::client::{segment, ApiClient, ClientError};
use super::Invocation;
use app::model::InstanceKey;
use serde_json::Value;

/// One command's documentation.
#[derive(Debug)]
pub struct CommandSpec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub summary: &'static str,
    pub usage: &'static str,
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "discover", aliases: &[], summary: "Probe an instance and crawl its whole topology", usage: "-i host[:port]\nProbes the instance now (waiting for the answer) and discovers its source and replicas,\nrecursively. Prints the instance's canonical key." },
    CommandSpec { name: "async-discover", aliases: &[], summary: "Start discovering an instance without waiting", usage: "-i host[:port]" },
    CommandSpec { name: "forget", aliases: &[], summary: "Forget an instance (it may be rediscovered later if still replicating)", usage: "-i host[:port]" },
    CommandSpec { name: "forget-cluster", aliases: &[], summary: "Forget every instance of a cluster", usage: "-i host[:port] | --alias alias" },
    CommandSpec { name: "topology", aliases: &[], summary: "Show the cluster's replication tree", usage: "[-i host[:port] | --alias alias]\nWithout -i, shows the only known cluster (or lists the clusters to choose from)." },
    CommandSpec { name: "topology-tabulated", aliases: &[], summary: "Show the cluster's replication tree with |-separated columns", usage: "[-i host[:port] | --alias alias]" },
    CommandSpec { name: "clusters", aliases: &[], summary: "List cluster names", usage: "" },
    CommandSpec { name: "clusters-alias", aliases: &[], summary: "List clusters with their aliases (name<TAB>alias)", usage: "" },
    CommandSpec { name: "all-instances", aliases: &[], summary: "List every known instance", usage: "" },
    CommandSpec { name: "which-instance", aliases: &["instance"], summary: "Print an instance's canonical key, or fail if unknown", usage: "-i host[:port]" },
    CommandSpec { name: "which-cluster", aliases: &[], summary: "Print the cluster name of an instance or alias", usage: "[-i host[:port] | --alias alias]" },
    CommandSpec { name: "which-cluster-alias", aliases: &[], summary: "Print the alias of a cluster", usage: "[-i host[:port] | --alias alias]" },
    CommandSpec { name: "which-cluster-master", aliases: &[], summary: "Print the primary of a cluster", usage: "[-i host[:port] | --alias alias]" },
    CommandSpec { name: "which-cluster-instances", aliases: &[], summary: "List the members of a cluster", usage: "[-i host[:port] | --alias alias]" },
    CommandSpec { name: "which-master", aliases: &[], summary: "Print the source an instance replicates from", usage: "-i host[:port]" },
    CommandSpec { name: "which-replicas", aliases: &["which-slaves"], summary: "List the direct replicas of an instance", usage: "-i host[:port]" },
    CommandSpec { name: "search", aliases: &[], summary: "Find instances by host, cluster, alias, version, server id or port", usage: "-i text" },
    CommandSpec { name: "set-cluster-alias", aliases: &[], summary: "Give a cluster an alias", usage: "-i host[:port] --alias alias" },
    CommandSpec { name: "audit", aliases: &[], summary: "Show recent audited operations", usage: "[-i host[:port]]" },
    CommandSpec { name: "which-api", aliases: &[], summary: "Print the API URL in use", usage: "" },
    CommandSpec { name: "help", aliases: &[], summary: "List commands, or explain one: help <command>", usage: "[command]" },
    CommandSpec { name: "version", aliases: &[], summary: "Print the version", usage: "" },
];

/// Every command: information commands, operations and checks, intents, `sql`, analysis,
/// recovery, raft.
pub fn all() -> impl Iterator<Item = &'static CommandSpec> {
    COMMANDS
        .iter()
        .chain(super::ops::COMMANDS.iter())
        .chain(super::intents::COMMANDS.iter())
        .chain(super::sql::COMMANDS.iter())
        .chain(super::analysis::COMMANDS.iter())
        .chain(super::recovery::COMMANDS.iter())
        .chain(super::raft::COMMANDS.iter())
}

/// Whether `spec` is one of `table`'s entries.
pub fn is_in(table: &[CommandSpec], spec: &CommandSpec) -> bool {
    // By name: names are unique across tables (a test checks), and consts may be copied.
    table.iter().any(|c| c.name == spec.name)
}

/// Finds a command by name, legacy alias, or unambiguous prefix. A prefix shared by several
/// commands resolves to the one that is a prefix of all the others (`topolo` → `topology`, not
/// `topology-tabulated`), which is what people mean when they abbreviate.
pub fn lookup(name: &str) -> Result<&'static CommandSpec, String> {
    let name = name.trim().to_ascii_lowercase();
    let name = if name.contains("slave") && !all().any(|c| c.aliases.contains(&name.as_str())) {
        name.replace("slaves", "replicas").replace("slave", "replica")
    } else {
        name
    };
    if let Some(c) = all().find(|c| c.name == name || c.aliases.contains(&name.as_str())) {
        return Ok(c);
    }
    let matches: Vec<&CommandSpec> = all().filter(|c| !name.is_empty() && c.name.starts_with(&name)).collect();
    match matches.as_slice() {
        [] => Err(format!("unknown command {name:?}; run `orchestrator -c help` for the list")),
        [one] => Ok(one),
        many => many
            .iter()
            .find(|c| many.iter().all(|o| o.name.starts_with(c.name)))
            .copied()
            .ok_or_else(|| {
                let names: Vec<&str> = many.iter().map(|c| c.name).collect();
                format!("ambiguous command {name:?}: could be {}", names.join(", "))
            }),
    }
}

/// What went wrong running a command: usage (exit 2) or the operation (exit 1).
pub enum Failure {
    Usage(String),
    Operation(String),
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        Failure::Operation(e.to_string())
    }
}

type Outcome = Result<Vec<String>, Failure>;

/// Runs `spec` and returns the lines to print.
pub async fn execute(spec: &CommandSpec, inv: &Invocation, api: &ApiClient) -> Outcome {
    match spec.name {
        "discover" => {
            let k = inv.instance()?;
            let inst = api.call(&format!("discover/{}/{}", segment(&k.hostname), k.port)).await?;
            Ok(vec![key_text(&inst["Key"])])
        }
        "async-discover" => {
            let k = inv.instance()?;
            api.call(&format!("async-discover/{}/{}", segment(&k.hostname), k.port)).await?;
            Ok(vec![k.to_string()])
        }
        "forget" => {
            let k = inv.instance()?;
            let key = api.call(&format!("forget/{}/{}", segment(&k.hostname), k.port)).await?;
            Ok(vec![key_text(&key)])
        }
        "forget-cluster" => {
            let hint = cluster_hint(inv, api).await?;
            let keys = api.call(&format!("forget-cluster/{}", segment(&hint))).await?;
            Ok(keys_text(&keys))
        }
        "topology" | "topology-tabulated" => {
            let hint = cluster_hint(inv, api).await?;
            let text = api.call(&format!("{}/{}", spec.name, segment(&hint))).await?;
            Ok(text.as_str().unwrap_or_default().lines().map(str::to_string).collect())
        }
        "clusters" => Ok(strings(&api.get("clusters").await?)),
        "clusters-alias" => {
            let infos = api.get("clusters-info").await?;
            Ok(array(&infos).iter().map(|i| format!("{}\t{}", text(&i["ClusterName"]), text(&i["ClusterAlias"]))).collect())
        }
        "all-instances" => Ok(array(&api.get("all-instances").await?).iter().map(|i| key_text(&i["Key"])).collect()),
        "which-instance" => {
            let inst = instance(inv, api).await?;
            Ok(vec![key_text(&inst["Key"])])
        }
        "which-cluster" | "which-cluster-alias" => {
            let hint = cluster_hint(inv, api).await?;
            let info = api.get(&format!("cluster-info/{}", segment(&hint))).await?;
            let field = if spec.name == "which-cluster" { "ClusterName" } else { "ClusterAlias" };
            Ok(vec![text(&info[field])])
        }
        "which-cluster-master" => {
            let hint = cluster_hint(inv, api).await?;
            let inst = api.get(&format!("master/{}", segment(&hint))).await?;
            Ok(vec![key_text(&inst["Key"])])
        }
        "which-cluster-instances" => {
            let hint = cluster_hint(inv, api).await?;
            Ok(array(&api.get(&format!("cluster/{}", segment(&hint))).await?).iter().map(|i| key_text(&i["Key"])).collect())
        }
        "which-master" => {
            let inst = instance(inv, api).await?;
            let master = key_text(&inst["MasterKey"]);
            Ok(if master.is_empty() { vec![] } else { vec![master] })
        }
        "which-replicas" => {
            let k = inv.instance()?;
            let list = api.get(&format!("instance-replicas/{}/{}", segment(&k.hostname), k.port)).await?;
            Ok(array(&list).iter().map(|i| key_text(&i["Key"])).collect())
        }
        "search" => {
            let needle = inv.instance_text().ok_or_else(|| Failure::Usage("search needs -i <text>".into()))?;
            Ok(array(&api.get(&format!("search/{}", segment(needle))).await?).iter().map(|i| key_text(&i["Key"])).collect())
        }
        "set-cluster-alias" => {
            let alias = inv.alias.clone().ok_or_else(|| Failure::Usage("set-cluster-alias needs --alias <alias>".into()))?;
            let k = inv.instance()?;
            let info = api.get(&format!("cluster-info/{}", segment(&k.to_string()))).await?;
            let cluster = text(&info["ClusterName"]);
            api.call(&format!("set-cluster-alias/{}?alias={}", segment(&cluster), segment(&alias))).await?;
            Ok(vec![format!("{cluster}\t{alias}")])
        }
        "audit" => {
            let path = match inv.instance_text() {
                Some(_) => {
                    let k = inv.instance()?;
                    format!("audit/instance/{}/{}", segment(&k.hostname), k.port)
                }
                None => "audit".to_string(),
            };
            Ok(array(&api.get(&path).await?)
                .iter()
                .map(|e| {
                    format!(
                        "{}\t{}\t{}\t{}\t{}",
                        text(&e["AuditTimestamp"]),
                        text(&e["AuditType"]),
                        key_text(&e["AuditInstanceKey"]),
                        text(&e["ClusterName"]),
                        text(&e["Message"])
                    )
                })
                .collect())
        }
        "which-api" => Ok(vec![api.base().to_string()]),
        other => Err(Failure::Usage(format!("command {other:?} is handled elsewhere"))),
    }
}

async fn instance(inv: &Invocation, api: &ApiClient) -> Result<Value, Failure> {
    let k = inv.instance()?;
    Ok(api.get(&format!("instance/{}/{}", segment(&k.hostname), k.port)).await?)
}

/// The cluster a command is about: `--alias`, else `-i`, else the only known cluster.
pub(crate) async fn cluster_hint(inv: &Invocation, api: &ApiClient) -> Result<String, Failure> {
    if let Some(alias) = &inv.alias {
        return Ok(alias.clone());
    }
    if let Some(text) = inv.instance_text() {
        // A malformed -i is a usage error here too; the text itself goes to the API, which
        // resolves a cluster name, an alias, or a member instance (default port added).
        inv.instance()?;
        return Ok(text.to_string());
    }
    let names = strings(&api.get("clusters").await?);
    match names.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Failure::Operation("no clusters known yet; discover one with `-c discover -i host:port`".into())),
        many => Err(Failure::Usage(format!("several clusters are known ({}); choose one with -i or --alias", many.join(", ")))),
    }
}

fn array(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

fn strings(v: &Value) -> Vec<String> {
    array(v).iter().map(text).collect()
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

fn keys_text(v: &Value) -> Vec<String> {
    array(v).iter().map(key_text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_prefixes_and_legacy_aliases_resolve() {
        assert_eq!(lookup("topology").unwrap().name, "topology");
        assert_eq!(lookup("topolo").unwrap().name, "topology");
        assert_eq!(lookup("topology-t").unwrap().name, "topology-tabulated");
        assert_eq!(lookup("which-slaves").unwrap().name, "which-replicas");
        assert_eq!(lookup("instance").unwrap().name, "which-instance");
        assert_eq!(lookup("DISCOVER").unwrap().name, "discover");
        assert!(lookup("which-cluster-").unwrap_err().contains("ambiguous"));
        assert!(lookup("frobnicate").unwrap_err().contains("unknown command"));
        assert!(lookup("").is_err());
    }

    #[test]
    fn every_command_has_help_and_a_unique_name() {
        let mut names = std::collections::BTreeSet::new();
        for c in all() {
            assert!(!c.summary.is_empty(), "{}", c.name);
            assert!(names.insert(c.name), "{} is in two tables", c.name);
            for a in c.aliases {
                assert!(names.insert(a), "alias {a} is taken twice");
            }
        }
    }
}
