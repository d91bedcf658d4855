//! orchestrator's text topology (`orchestrator -c topology`, `/api/topology/...`), character for
//! character, so scripts that parse it keep working:
//!
//! ```text
//! db1:3306     [0s,ok,8.0.36,rw,ROW,>>,GTID]
//! + db2:3306   [0s,ok,8.0.36,ro,ROW,>>,GTID]
//!   + db3:3306 [null,nonreplicating,8.0.36,ro,ROW,>>,GTID]
//! ```

use app::model::tree::Tree;
use app::model::Instance;

/// Thresholds the status column depends on.
#[derive(Clone, Copy, Debug)]
pub struct AsciiSettings {
    /// `ReasonableMaintenanceReplicationLagSeconds`: above it a replica shows `lag`.
    pub maintenance_lag_seconds: i64,
}

/// Renders one cluster. `tabulated` gives orchestrator's `topology-tabulated` form (`|` between
/// columns); `tags` appends each instance's tags.
pub fn render(members: &[Instance], settings: AsciiSettings, tabulated: bool, tags: Option<&dyn Fn(&Instance) -> Vec<String>>) -> String {
    let tree = Tree::build(members);
    let rows: Vec<Vec<String>> = tree
        .depth_first()
        .into_iter()
        .map(|(depth, inst)| {
            let mut cells = vec![name_cell(depth, inst)];
            let tokens = description_tokens(inst, settings);
            if tabulated {
                cells.extend(tokens);
            } else {
                let non_empty: Vec<String> = tokens.into_iter().filter(|t| !t.is_empty()).collect();
                cells.push(format!("[{}]", non_empty.join(",")));
            }
            if let Some(tags) = tags {
                cells.push(format!("[{}]", tags(inst).join(",")));
            }
            cells
        })
        .collect();
    if tabulated {
        align(&rows, "|", true)
    } else {
        align(&rows, " ", false)
    }
}

fn name_cell(depth: usize, inst: &Instance) -> String {
    let mut prefix = String::new();
    if depth > 0 {
        prefix.push_str(&" ".repeat((depth - 1) * 2));
        let healthy = inst.is_replicating() && inst.is_last_check_valid && inst.is_recently_checked;
        prefix.push_str(if healthy { "+ " } else { "- " });
    }
    let alias = if inst.instance_alias.is_empty() { String::new() } else { format!(" ({})", inst.instance_alias) };
    format!("{prefix}{}{alias}", inst.key)
}

/// orchestrator's `descriptionTokens`: lag, status, version, ro/rw, binlog format, flags.
pub fn description_tokens(inst: &Instance, settings: AsciiSettings) -> Vec<String> {
    let mut flags: Vec<&str> = Vec::new();
    if inst.log_bin_enabled && inst.log_replication_updates_enabled {
        flags.push(">>");
    }
    if inst.uses_gtid() || inst.supports_oracle_gtid {
        flags.push(if inst.gtid_errant.is_empty() { "GTID" } else { "GTID:errant" });
    }
    if inst.using_pseudo_gtid {
        flags.push("P-GTID");
    }
    if inst.semi_sync_master_status {
        flags.push("semi:master");
    }
    if inst.semi_sync_replica_status {
        flags.push("semi:replica");
    }
    if inst.is_downtimed {
        flags.push("downtimed");
    }
    vec![
        lag_text(inst),
        status_text(inst, settings),
        inst.version.clone(),
        if inst.read_only { "ro" } else { "rw" }.to_string(),
        if inst.log_bin_enabled { inst.binlog_format.clone() } else { "nobinlog".to_string() },
        flags.join(","),
    ]
}

fn lag_text(inst: &Instance) -> String {
    if inst.is_detached_master {
        return "detached".into();
    }
    if !inst.is_last_check_valid || !inst.is_recently_checked {
        return "unknown".into();
    }
    if inst.is_replica() && !inst.is_replicating() {
        return "null".into();
    }
    match inst.replication_lag_seconds.get() {
        Some(s) => format!("{s}s"),
        None if inst.is_replica() => "null".into(),
        None => "0s".into(),
    }
}

fn status_text(inst: &Instance, settings: AsciiSettings) -> String {
    if !inst.is_last_check_valid {
        "invalid"
    } else if !inst.is_recently_checked {
        "unchecked"
    } else if inst.is_replica() && !inst.is_replicating() {
        "nonreplicating"
    } else if inst.is_replica() && inst.replication_lag_seconds.get().unwrap_or(0) > settings.maintenance_lag_seconds {
        "lag"
    } else {
        "ok"
    }
    .to_string()
}

/// Aligns columns joined by `separator`, as orchestrator's `util.Tabulate` does: left-aligned,
/// except the lag column, which is right-aligned in the tabulated form, where every column is
/// padded (the plain form only aligns the brackets, so nothing trails).
fn align(rows: &[Vec<String>], separator: &str, tabulated: bool) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str(separator);
            }
            let pad = " ".repeat(widths[i] - cell.chars().count());
            if tabulated && i == 1 {
                line.push_str(&pad);
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if tabulated || i + 1 < row.len() {
                    line.push_str(&pad);
                }
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::{InstanceKey, NullInt64};

    fn inst(name: &str, master: Option<&str>) -> Instance {
        let mut i = Instance::unseen(InstanceKey::new(name, 3306));
        i.version = "8.0.36".into();
        i.log_bin_enabled = true;
        i.log_replication_updates_enabled = true;
        i.binlog_format = "ROW".into();
        i.supports_oracle_gtid = true;
        i.is_last_check_valid = true;
        i.is_recently_checked = true;
        i.replication_lag_seconds = NullInt64::some(0);
        if let Some(m) = master {
            i.master_key = InstanceKey::new(m, 3306);
            i.read_only = true;
            i.replication_io_thread_running = true;
            i.replication_sql_thread_running = true;
        }
        i
    }

    const S: AsciiSettings = AsciiSettings { maintenance_lag_seconds: 20 };

    #[test]
    fn renders_orchestrators_format() {
        let mut broken = inst("db3", Some("db2"));
        broken.replication_sql_thread_running = false;
        broken.replication_lag_seconds = NullInt64::default();
        let members = vec![inst("db1", None), inst("db2", Some("db1")), broken, inst("db4", Some("db1"))];
        let text = render(&members, S, false, None);
        assert_eq!(
            text,
            "db1:3306     [0s,ok,8.0.36,rw,ROW,>>,GTID]\n\
             + db2:3306   [0s,ok,8.0.36,ro,ROW,>>,GTID]\n\
             \x20 - db3:3306 [null,nonreplicating,8.0.36,ro,ROW,>>,GTID]\n\
             + db4:3306   [0s,ok,8.0.36,ro,ROW,>>,GTID]\n"
        );
    }

    #[test]
    fn tabulated_alias_lag_and_unreachable() {
        let mut primary = inst("db1", None);
        primary.instance_alias = "mysql1".into();
        let mut lagging = inst("db2", Some("db1"));
        lagging.replication_lag_seconds = NullInt64::some(42);
        let mut dead = inst("db3", Some("db1"));
        dead.is_last_check_valid = false;
        let text = render(&[primary, lagging, dead], S, true, None);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "db1:3306 (mysql1)|     0s|ok     |8.0.36|rw|ROW|>>,GTID");
        assert_eq!(lines[1], "+ db2:3306       |    42s|lag    |8.0.36|ro|ROW|>>,GTID");
        assert_eq!(lines[2], "- db3:3306       |unknown|invalid|8.0.36|ro|ROW|>>,GTID");
    }
}
