//! Operator intents on the command line, with orchestrator's names, flags and output:
//! maintenance (`begin-maintenance`, `end-maintenance`, `in-maintenance`), downtime
//! (`begin-downtime`, `end-downtime`, `downtimed`), `register-candidate`, and tags (`tag`,
//! `untag`, `untag-all`, `tagged`, `tags`, `tag-value`). (`topology-tags` is API-only: as a
//! command it would make the `topology-t` abbreviation ambiguous.)
//!
//! Missing required flags (`--reason`, `--tag`) and malformed ones (`--duration 5x`,
//! `--promotion-rule must`) are usage errors (exit 2), found before the node is asked.

use super::client::{segment, ApiClient};
use super::commands::{CommandSpec, Failure};
use super::Invocation;
use crate::intents::model::PromotionRule;
use crate::intents::parse::{self, TagFilter};
use app::model::InstanceKey;
use serde_json::Value;

const fn cmd(name: &'static str, aliases: &'static [&'static str], summary: &'static str, usage: &'static str) -> CommandSpec {
    CommandSpec { name, aliases, summary, usage }
}

/// A `static`, not a `const`: `commands::is_in` compares addresses, and each use of a `const`
/// may be a copy of its own.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "begin-maintenance",
        &[],
        "Lock an instance for maintenance: topology operations refuse it until end-maintenance",
        "-i host[:port] --reason text [--owner name] [--duration 10m]\nThe lock expires after --duration (59s, 59m, 23h, 6d, 4w; default 10m). Refused while the\ninstance is already in maintenance. --owner defaults to your user name.",
    ),
    cmd("end-maintenance", &[], "Remove an instance's maintenance lock", "-i host[:port]"),
    cmd("in-maintenance", &[], "Print the instance if it is in maintenance (nothing otherwise)", "-i host[:port]"),
    cmd(
        "begin-downtime",
        &[],
        "Mark an instance downtimed: analyzed, but not recovered automatically",
        "-i host[:port] --reason text [--owner name] [--duration 10m]\nWithout --duration the downtime lasts orchestrator's default, 10 minutes. A new downtime\nreplaces the previous one.",
    ),
    cmd("end-downtime", &[], "Remove an instance's downtime", "-i host[:port]"),
    cmd("downtimed", &["which-downtimed-instances"], "List downtimed instances (of one cluster with -i or --alias)", "[-i host[:port] | --alias alias]"),
    cmd(
        "register-candidate",
        &[],
        "Set an instance's promotion rule (expires after CandidateInstanceExpireMinutes)",
        "-i host[:port] [--promotion-rule prefer|neutral|prefer_not|must_not]\nThe rule defaults to prefer. Register again (e.g. from cron) to keep it.",
    ),
    cmd("tag", &[], "Tag an instance (replacing the tag's value)", "-i host[:port] --tag name[=value]"),
    cmd("untag", &[], "Remove a tag from an instance (only with that value, if one is given)", "-i host[:port] --tag name[=value]"),
    cmd("untag-all", &[], "Remove a tag with a given value from every instance", "--tag name=value"),
    cmd(
        "tagged",
        &[],
        "List instances matching every tag of a query",
        "--tag query\nComma-separated terms, all of which must match: name (has the tag), name=value, !name\n(does not have it), !name=value (has it with another value). E.g. --tag role=backup,!retired",
    ),
    cmd("tags", &[], "List an instance's tags (name=value)", "-i host[:port]"),
    cmd("tag-value", &[], "Print the value of one of an instance's tags", "-i host[:port] --tag name"),
];

fn key_path(k: &InstanceKey) -> String {
    format!("{}/{}", segment(&k.hostname), k.port)
}

fn reason(inv: &Invocation, command: &str) -> Result<String, Failure> {
    let text = inv.reason.as_deref().unwrap_or("");
    if text.trim().is_empty() {
        return Err(Failure::Usage(format!("{command} needs --reason <text>")));
    }
    parse::validate_text("--reason", text).map_err(Failure::Usage)
}

/// `--owner`, else the user running the command (orchestrator-client's `whoami`).
fn owner(inv: &Invocation) -> Result<String, Failure> {
    let text = match inv.owner.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        Some(o) => o.to_string(),
        None => std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "orchestrator".into()),
    };
    parse::validate_text("--owner", &text).map_err(Failure::Usage)
}

/// `--duration`, checked here so that a typo is a usage error; absent means the default.
fn duration(inv: &Invocation) -> Result<Option<String>, Failure> {
    match inv.duration.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(None),
        Some(d) => {
            parse::parse_duration(d).map_err(|e| Failure::Usage(format!("--duration: {e}")))?;
            Ok(Some(d.to_string()))
        }
    }
}

fn tag_text(inv: &Invocation, command: &str, form: &str) -> Result<String, Failure> {
    let text = inv.tag.as_deref().map(str::trim).filter(|t| !t.is_empty());
    text.map(str::to_string).ok_or_else(|| Failure::Usage(format!("{command} needs --tag {form}")))
}

fn tag(inv: &Invocation, command: &str, form: &str) -> Result<TagFilter, Failure> {
    let text = tag_text(inv, command, form)?;
    TagFilter::parse(&text).and_then(|t| t.positive(command)).map_err(Failure::Usage)
}

/// Runs an intent command; returns the lines to print.
pub async fn execute(spec: &CommandSpec, inv: &Invocation, api: &ApiClient) -> Result<Vec<String>, Failure> {
    match spec.name {
        "begin-maintenance" | "begin-downtime" => {
            let k = inv.instance()?;
            let reason = reason(inv, spec.name)?;
            let owner = owner(inv)?;
            let mut path = format!("{}/{}/{}/{}", spec.name, key_path(&k), segment(&owner), segment(&reason));
            if let Some(d) = duration(inv)? {
                path.push('/');
                path.push_str(&segment(&d));
            }
            Ok(vec![key_text(&api.call(&path).await?)])
        }
        "end-maintenance" | "end-downtime" => {
            let k = inv.instance()?;
            Ok(vec![key_text(&api.call(&format!("{}/{}", spec.name, key_path(&k))).await?)])
        }
        "in-maintenance" => {
            let k = inv.instance()?;
            let answer = api.get(&format!("in-maintenance/{}", key_path(&k))).await?;
            Ok(if answer["Message"] == "true" { vec![k.to_string()] } else { vec![] })
        }
        "downtimed" => {
            let path = match (inv.alias.as_deref(), inv.instance_text()) {
                (Some(alias), _) => format!("downtimed/{}", segment(alias)),
                (None, Some(_)) => format!("downtimed/{}", segment(&inv.instance()?.to_string())),
                (None, None) => "downtimed".to_string(),
            };
            Ok(array(&api.get(&path).await?).iter().map(|i| key_text(&i["Key"])).collect())
        }
        "register-candidate" => {
            let k = inv.instance()?;
            let rule = inv.promotion_rule.as_deref().unwrap_or("prefer");
            let rule = PromotionRule::parse(rule).map_err(|e| Failure::Usage(format!("--promotion-rule: {e}")))?;
            Ok(vec![key_text(&api.call(&format!("register-candidate/{}/{}", key_path(&k), rule.as_str())).await?)])
        }
        "tag" => {
            let k = inv.instance()?;
            let t = tag(inv, "tag", "name[=value]")?;
            let text = match &t.value {
                Some(v) => format!("{}={v}", t.name),
                None => t.name.clone(),
            };
            Ok(vec![key_text(&api.call(&format!("tag/{}?tag={}", key_path(&k), segment(&text))).await?)])
        }
        "untag" | "untag-all" => {
            let form = if spec.name == "untag" { "name[=value]" } else { "name=value" };
            let t = tag(inv, spec.name, form)?;
            let text = match &t.value {
                Some(v) => format!("{}={v}", t.name),
                None => t.name.clone(),
            };
            let path = if spec.name == "untag" {
                format!("untag/{}?tag={}", key_path(&inv.instance()?), segment(&text))
            } else {
                if t.value.is_none() {
                    return Err(Failure::Usage(format!("untag-all needs --tag name=value (use `{}=` for tags without a value)", t.name)));
                }
                format!("untag-all?tag={}", segment(&text))
            };
            Ok(array(&api.call(&path).await?).iter().map(key_text).collect())
        }
        "tagged" => {
            let text = tag_text(inv, "tagged", "query")?;
            parse::parse_tag_query(&text).map_err(Failure::Usage)?;
            let mut keys: Vec<String> = array(&api.get(&format!("tagged?tag={}", segment(&text))).await?).iter().map(key_text).collect();
            keys.sort();
            Ok(keys)
        }
        "tags" => {
            let k = inv.instance()?;
            Ok(array(&api.get(&format!("tags/{}", key_path(&k))).await?).iter().map(text).collect())
        }
        "tag-value" => {
            let k = inv.instance()?;
            let t = tag(inv, "tag-value", "name")?;
            Ok(vec![text(&api.get(&format!("tag-value/{}?tag={}", key_path(&k), segment(&t.name))).await?)])
        }
        other => Err(Failure::Usage(format!("command {other:?} is handled elsewhere"))),
    }
}

fn array(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_resolves_and_has_help() {
        for c in COMMANDS {
            assert_eq!(super::super::commands::lookup(c.name).unwrap().name, c.name);
            assert!(!c.summary.is_empty() && !c.usage.is_empty(), "{}", c.name);
        }
        assert_eq!(super::super::commands::lookup("which-downtimed-instances").unwrap().name, "downtimed");
    }
}
