//! How instance facts read to a person: roles, lag, thread states. Shared by pages and the CLI.

use super::Instance;

/// `primary`, `co-primary`, `intermediate`, `replica` (or `unknown` before the first probe).
pub fn role(i: &Instance) -> &'static str {
    if i.version.is_empty() && !i.is_last_check_valid {
        "unknown"
    } else if i.is_co_master {
        "co-primary"
    } else if !i.is_replica() {
        "primary"
    } else if !i.replicas.is_empty() {
        "intermediate"
    } else {
        "replica"
    }
}

/// Lag as `1h 2m 3s`; `-` when not a replica; `unknown` when the server does not say.
pub fn lag(i: &Instance) -> String {
    if !i.is_replica() {
        return "-".into();
    }
    match i.replication_lag_seconds.get() {
        Some(s) => duration(s.max(0) as u64),
        None => "unknown".into(),
    }
}

/// Seconds as `1h 2m 3s`, `4m 0s`, `0s`.
pub fn duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m {s}s"),
        _ => format!("{h}h {m}m {s}s"),
    }
}

/// IO/SQL thread states in a few words.
pub fn replication_state(i: &Instance) -> String {
    if !i.is_replica() {
        return "-".into();
    }
    if !i.is_last_check_valid {
        return "unreachable".into();
    }
    let thread = |running: bool, state: super::ThreadState| match (running, state) {
        (true, _) => "running",
        (false, super::ThreadState::Other) => "connecting",
        _ => "stopped",
    };
    let io = thread(i.replication_io_thread_running, i.replication_io_thread_state);
    let sql = thread(i.replication_sql_thread_running, i.replication_sql_thread_state);
    let mut text = format!("IO {io}, SQL {sql}");
    if !i.last_sql_error.is_empty() {
        text.push_str(&format!(" — SQL error {}: {}", i.last_sql_errno, i.last_sql_error));
    } else if !i.last_io_error.is_empty() {
        text.push_str(&format!(" — IO error {}: {}", i.last_io_errno, i.last_io_error));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_writes_them() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(59), "59s");
        assert_eq!(duration(240), "4m 0s");
        assert_eq!(duration(3723), "1h 2m 3s");
    }
}
