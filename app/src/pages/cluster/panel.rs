//! The selected server's details and its actions. Every action goes through the confirmation
//! (the server's plan first); "Move below…" starts the keyboard path of the graph. A read-only
//! node shows the details and no actions.

use crate::model::ops::Operation;
use crate::model::{display, Instance, InstanceKey};
use crate::rules::drop::Dragged;
use leptos::prelude::*;

/// The actions that make sense for `i`, as (label, operation).
pub fn actions(i: &Instance) -> Vec<(&'static str, Operation)> {
    let k = || i.key.clone();
    let mut out = Vec::new();
    if i.is_replica() {
        if i.is_detached {
            out.push(("Reattach to its source", Operation::ReattachReplicaMasterHost { instance: k() }));
        } else {
            out.push(("Move up", Operation::MoveUp { instance: k() }));
            out.push(("Take master", Operation::TakeMaster { instance: k() }));
            if i.is_replicating() {
                out.push(("Stop replica", Operation::StopReplica { instance: k() }));
                out.push(("Stop replica nicely", Operation::StopReplicaNice { instance: k() }));
            } else {
                out.push(("Start replica", Operation::StartReplica { instance: k() }));
            }
            out.push(("Restart replica", Operation::RestartReplica { instance: k() }));
            if !i.last_sql_error.is_empty() {
                out.push(("Skip the failed query", Operation::SkipQuery { instance: k() }));
            }
            out.push(("Detach from its source", Operation::DetachReplicaMasterHost { instance: k() }));
        }
    }
    if !i.replicas.is_empty() {
        out.push(("Move its replicas up", Operation::MoveUpReplicas { instance: k() }));
        out.push(("Regroup its replicas", Operation::RegroupReplicas { instance: k() }));
    }
    if i.read_only {
        out.push(("Set writeable", Operation::SetWriteable { instance: k() }));
    } else {
        out.push(("Set read-only", Operation::SetReadOnly { instance: k() }));
    }
    if i.log_bin_enabled {
        out.push(("Flush binary logs", Operation::FlushBinaryLogs { instance: k() }));
    }
    if !i.gtid_errant.is_empty() {
        out.push(("Inject empty errant transactions", Operation::GtidErrantInjectEmpty { instance: k() }));
    }
    if i.is_replica() {
        out.push(("Reset replica (forget its source)", Operation::ResetReplica { instance: k() }));
    }
    out
}

fn row(label: &'static str, value: String) -> impl IntoView {
    view! { <tr><th>{label}</th><td>{value}</td></tr> }
}

/// The details rows of `i`.
fn details(i: &Instance) -> impl IntoView {
    let gtid = if i.using_oracle_gtid { i.executed_gtid_set.clone() } else if i.using_mariadb_gtid { i.gtid_current_pos.clone() } else { String::new() };
    view! {
        {row("Address", i.key.to_string())}
        {row("Role", display::role(i).to_string())}
        {row("Version", format!("{} {} {}", i.flavor_name, i.version, i.version_comment))}
        {row("Server id", i.server_id.to_string())}
        {row("Mode", if i.read_only { "read-only".into() } else { "writable".to_string() })}
        {row("Binary log", if i.log_bin_enabled { format!("{} ({})", i.binlog_format, i.self_binlog_coordinates.log_file) } else { "off".into() })}
        {i.is_replica().then(|| row("Source", i.master_key.to_string()))}
        {i.is_replica().then(|| row("Replication", display::replication_state(i)))}
        {i.is_replica().then(|| row("Lag", display::lag(i)))}
        {(!gtid.is_empty()).then(|| row("GTID executed", gtid.clone()))}
        {(!i.gtid_errant.is_empty()).then(|| row("Errant GTIDs", i.gtid_errant.clone()))}
        {(!i.data_center.is_empty()).then(|| row("Data centre", i.data_center.clone()))}
        {row("Promotion rule", i.promotion_rule.clone())}
        {i.is_downtimed.then(|| row("Downtime", format!("{} by {} until {}", i.downtime_reason, i.downtime_owner, i.downtime_end.map(|t| t.to_rfc3339()).unwrap_or_default())))}
        {i.in_maintenance.then(|| row("Maintenance", format!("{} by {}", i.maintenance_reason, i.maintenance_owner)))}
        {(!i.problems.is_empty()).then(|| row("Problems", i.problems.join(", ").replace('_', " ")))}
        {(!i.last_probe_error.is_empty()).then(|| row("Last probe error", i.last_probe_error.clone()))}
    }
}

/// The panel. The instance is refreshed every second by the node's stream: only the details
/// rows follow it; the frame and the buttons are rebuilt only when the selection or the set of
/// actions changes, so a button is never swapped under the operator's pointer.
#[component]
pub fn InstancePanel(
    instance: Signal<Option<Instance>>,
    can_write: Signal<bool>,
    on_action: Callback<Operation>,
    picking: RwSignal<Option<Dragged>>,
    on_close: Callback<()>,
) -> impl IntoView {
    let key = Memo::new(move |_| instance.with(|i| i.as_ref().map(|i| i.key.clone())));
    let acts = Memo::new(move |_| instance.with(|i| i.as_ref().map(actions).unwrap_or_default()));
    let has_replicas = Memo::new(move |_| instance.with(|i| i.as_ref().is_some_and(|i| !i.replicas.is_empty())));
    let title = Memo::new(move |_| instance.with(|i| i.as_ref().map(|i| i.display_name()).unwrap_or_default()));
    move || {
        key.get().map(|key: InstanceKey| {
            let id = key.to_string();
            let key2 = key.clone();
            view! {
                <aside class="panel" data-instance=id aria-label="Instance details">
                    <header>
                        <h2>{move || title.get()}</h2>
                        <button type="button" class="close" aria-label="Close details" on:click=move |_| on_close.run(())>"×"</button>
                    </header>
                    <table class="details">{move || instance.with(|i| i.as_ref().map(details))}</table>
                    {move || can_write.get().then(|| {
                        let key = key.clone();
                        let key2 = key2.clone();
                        view! {
                            <div class="panel-actions">
                                <button type="button" class="move-below" on:click=move |_| picking.set(Some(Dragged::Instance(key.clone())))>"Move below…"</button>
                                {move || has_replicas.get().then(|| {
                                    let key2 = key2.clone();
                                    view! {
                                        <button type="button" class="move-replicas" on:click=move |_| picking.set(Some(Dragged::ReplicasOf(key2.clone())))>"Move its replicas below…"</button>
                                    }
                                })}
                                {move || acts.get().into_iter().map(|(label, op)| view! {
                                    <button type="button" data-operation=op.name() on:click=move |_| on_action.run(op.clone())>{label}</button>
                                }).collect_view()}
                            </div>
                        }
                    })}
                </aside>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_replica_offers_start_not_stop() {
        let mut i = Instance::unseen(InstanceKey::new("db2", 3306));
        i.master_key = InstanceKey::new("db1", 3306);
        i.read_only = true;
        let names: Vec<String> = actions(&i).iter().map(|(_, op)| op.name().to_string()).collect();
        assert!(names.contains(&"start-replica".to_string()) && !names.contains(&"stop-replica".to_string()), "{names:?}");
        assert!(names.contains(&"set-writeable".to_string()));
        i.replication_io_thread_running = true;
        i.replication_sql_thread_running = true;
        let names: Vec<String> = actions(&i).iter().map(|(_, op)| op.name().to_string()).collect();
        assert!(names.contains(&"stop-replica".to_string()), "{names:?}");
    }
}
