//! The clusters dashboard: every cluster with its servers, refreshed while the page is open.

use crate::api::list_clusters;
use crate::model::{display, ClusterOverview, Instance};
use leptos::prelude::*;

/// How often the open page asks the node for fresh data.
const REFRESH_MS: u64 = 1000;

#[component]
pub fn Dashboard() -> impl IntoView {
    let (tick, set_tick) = signal(0u64);
    let clusters = Resource::new(move || tick.get(), |_| list_clusters());
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || set_tick.update(|t| *t += 1),
            std::time::Duration::from_millis(REFRESH_MS),
        );
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    });
    view! {
        <h1>"Clusters"</h1>
        <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match clusters.await {
                    Err(e) => view! { <p class="error">{format!("Cannot read clusters: {e}")}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty">"No clusters yet. Discover a server with "<code>"orchestrator -c discover -i host:port"</code>"."</p>
                    }.into_any(),
                    Ok(list) => list.into_iter().map(|c| view! { <ClusterCard cluster=c/> }).collect_view().into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ClusterCard(cluster: ClusterOverview) -> impl IntoView {
    let info = cluster.info.clone();
    let title = if info.cluster_alias.is_empty() { info.cluster_name.clone() } else { info.cluster_alias.clone() };
    let problems = cluster.instances.iter().filter(|i| !i.problems.is_empty()).count();
    view! {
        <section class="cluster" data-cluster=info.cluster_name.clone()>
            <h2>
                {title}
                <span class="count">{format!("{} instances", info.count_instances)}</span>
                {(problems > 0).then(|| view! { <span class="badge problem">{format!("⚠ {problems} with problems")}</span> })}
            </h2>
            <table class="instances">
                <thead>
                    <tr>
                        <th>"Instance"</th><th>"Role"</th><th>"Version"</th><th>"Mode"</th>
                        <th>"Binlog"</th><th>"Replication"</th><th>"Lag"</th><th>"Problems"</th>
                    </tr>
                </thead>
                <tbody>
                    {cluster.instances.into_iter().map(|i| view! { <InstanceRow instance=i/> }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn InstanceRow(instance: Instance) -> impl IntoView {
    let i = instance;
    let role = display::role(&i);
    let indent = format!("padding-left: {}rem", 0.5 + 1.25 * i.replication_depth as f32);
    let healthy = i.problems.is_empty();
    view! {
        <tr class:problem=!healthy data-instance=i.key.to_string() data-role=role>
            <td style=indent class="name">
                <strong>{i.display_name()}</strong>
                {(!i.instance_alias.is_empty()).then(|| view! { <span class="key">{i.key.to_string()}</span> })}
            </td>
            <td>{role}</td>
            <td>{format!("{} {}", i.flavor_name, i.version)}</td>
            <td>{if i.read_only { "read-only" } else { "writable" }}</td>
            <td>{if i.log_bin_enabled { i.binlog_format.clone() } else { "no binlog".into() }}</td>
            <td>{display::replication_state(&i)}</td>
            <td>{display::lag(&i)}</td>
            <td class="problems">
                {if healthy { "✓".to_string() } else { format!("⚠ {}", i.problems.join(", ")) }}
            </td>
        </tr>
    }
}
