//! The clusters dashboard: a tile per cluster (name, primary, size, problems, recovery policy)
//! with its servers, refreshed while the page is open.

use super::{cluster_href, IconSvg, Icon, LiveClusters, ProblemBadge};
use crate::model::{display, ClusterOverview, Instance};
use leptos::prelude::*;
use leptos_router::components::A;
use std::collections::BTreeMap;

#[component]
pub fn Dashboard() -> impl IntoView {
    view! {
        <h1>"Clusters"</h1>
        <LiveClusters render=clusters/>
    }
}

fn clusters(list: Vec<ClusterOverview>) -> AnyView {
    if list.is_empty() {
        return view! {
            <p class="empty">
                "No clusters yet. "<A href="/discover">"Discover a server"</A>" or run "
                <code>"orchestrator -c discover -i host:port"</code>"."
            </p>
        }
        .into_any();
    }
    view! { <div class="tiles">{list.into_iter().map(|c| view! { <ClusterTile cluster=c/> }).collect_view()}</div> }.into_any()
}

/// The cluster's primary: its writable top server, else any top server.
fn primary(members: &[Instance]) -> Option<&Instance> {
    let mut tops = members.iter().filter(|i| i.replication_depth == 0);
    let first = tops.clone().next();
    tops.find(|i| !i.read_only).or(first)
}

/// Each problem code with how many servers have it, in a stable order.
fn problem_counts(members: &[Instance]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for code in members.iter().flat_map(|i| i.problems.iter()) {
        *counts.entry(code.clone()).or_default() += 1;
    }
    counts
}

/// Automatic recovery the configuration allows for this cluster (real policy, not history).
fn recovery_policy(c: &ClusterOverview) -> &'static str {
    match (c.info.has_automated_master_recovery, c.info.has_automated_intermediate_master_recovery) {
        (true, true) => "primary and intermediate",
        (true, false) => "primary only",
        (false, true) => "intermediate only",
        (false, false) => "off",
    }
}

#[component]
fn ClusterTile(cluster: ClusterOverview) -> impl IntoView {
    let info = cluster.info.clone();
    let name = info.cluster_name.clone();
    let title = if info.cluster_alias.is_empty() { name.clone() } else { info.cluster_alias.clone() };
    let subtitle = (title != name).then(|| view! { <span class="key">{name.clone()}</span> });
    let primary_name = primary(&cluster.instances).map(|p| p.display_name()).unwrap_or_else(|| "none found".into());
    let counts = problem_counts(&cluster.instances);
    let healthy = counts.is_empty();
    let recovery = recovery_policy(&cluster);
    view! {
        <section class="cluster tile" class:unhealthy=!healthy data-cluster=name.clone()>
            <header class="tile-head">
                <h2>
                    <A href=cluster_href(&name) attr:class="cluster-link">{title}</A>
                    {subtitle}
                </h2>
                <dl class="facts">
                    <div><dt>"Primary"</dt><dd class="primary">{primary_name}</dd></div>
                    <div><dt>"Instances"</dt><dd class="count">{info.count_instances}</dd></div>
                    <div><dt>"Auto-recovery"</dt><dd>{recovery}</dd></div>
                </dl>
                <div class="badges">
                    {if healthy {
                        view! { <span class="badge ok"><IconSvg icon=Icon::Ok/>"healthy"</span> }.into_any()
                    } else {
                        counts.into_iter().map(|(code, n)| view! { <ProblemBadge code count=n/> }).collect_view().into_any()
                    }}
                </div>
            </header>
            <div class="table-scroll">
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
            </div>
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
                {if healthy {
                    view! { <IconSvg icon=Icon::Ok/>"ok" }.into_any()
                } else {
                    view! { <IconSvg icon=Icon::Alert/>{i.problems.join(", ")} }.into_any()
                }}
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::InstanceKey;

    fn inst(host: &str, depth: u32, read_only: bool, problems: &[&str]) -> Instance {
        let mut i = Instance::unseen(InstanceKey::new(host, 3306));
        i.replication_depth = depth;
        i.read_only = read_only;
        i.problems = problems.iter().map(|p| p.to_string()).collect();
        i
    }

    #[test]
    fn the_primary_is_the_writable_top_server() {
        let members = [inst("co1", 0, true, &[]), inst("co2", 0, false, &[]), inst("r", 1, true, &[])];
        assert_eq!(primary(&members).unwrap().key.hostname, "co2");
        assert_eq!(primary(&members[..1]).unwrap().key.hostname, "co1");
        assert!(primary(&members[2..]).is_none());
    }

    #[test]
    fn problems_are_counted_per_code() {
        let members = [inst("a", 0, false, &[]), inst("b", 1, true, &["not_replicating"]), inst("c", 1, true, &["not_replicating", "replication_lag"])];
        let counts: Vec<_> = problem_counts(&members).into_iter().collect();
        assert_eq!(counts, [("not_replicating".to_string(), 2), ("replication_lag".to_string(), 1)]);
    }
}
