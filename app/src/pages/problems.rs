//! Every server with a problem, grouped by cluster, refreshed every second.

use super::{cluster_href, IconSvg, Icon, LiveClusters, ProblemBadge};
use crate::model::{display, ClusterOverview, Instance};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn ProblemsPage() -> impl IntoView {
    view! {
        <h1>"Problems"</h1>
        <LiveClusters render=problems/>
    }
}

/// Clusters that have servers with problems, each with only those servers.
fn with_problems(list: Vec<ClusterOverview>) -> Vec<ClusterOverview> {
    list.into_iter()
        .filter_map(|mut c| {
            c.instances.retain(|i| !i.problems.is_empty());
            (!c.instances.is_empty()).then_some(c)
        })
        .collect()
}

fn problems(list: Vec<ClusterOverview>) -> AnyView {
    let clusters = with_problems(list);
    if clusters.is_empty() {
        return view! { <p class="all-clear"><IconSvg icon=Icon::Ok/>"No problems: every known server replicates and answers."</p> }.into_any();
    }
    clusters.into_iter().map(|c| view! { <ClusterProblems cluster=c/> }).collect_view().into_any()
}

#[component]
fn ClusterProblems(cluster: ClusterOverview) -> impl IntoView {
    let name = cluster.info.cluster_name.clone();
    let title = if cluster.info.cluster_alias.is_empty() { name.clone() } else { cluster.info.cluster_alias.clone() };
    view! {
        <section class="sheet problem-cluster" data-cluster=name.clone()>
            <h2>
                <A href=cluster_href(&name) attr:class="cluster-link">{title}</A>
                <span class="count">{format!("{} of {} servers", cluster.instances.len(), cluster.info.count_instances)}</span>
            </h2>
            <ul class="problem-list">
                {cluster.instances.into_iter().map(|i| view! { <ProblemItem instance=i/> }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn ProblemItem(instance: Instance) -> impl IntoView {
    let i = instance;
    let key = i.key.to_string();
    let alias = (!i.instance_alias.is_empty()).then(|| view! { <span class="key">{key.clone()}</span> });
    view! {
        <li data-instance=key.clone() data-problems=i.problems.join(" ")>
            <div class="who">
                <strong>{i.display_name()}</strong>
                {alias}
                <span class="role">{display::role(&i)}</span>
            </div>
            <div class="badges">
                {i.problems.iter().map(|p| view! { <ProblemBadge code=p.clone()/> }).collect_view()}
            </div>
            <div class="detail">
                {format!("Replication: {} · lag {}", display::replication_state(&i), display::lag(&i))}
                {(!i.last_probe_error.is_empty()).then(|| format!(" · last probe: {}", i.last_probe_error))}
            </div>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClusterInfo, InstanceKey};

    #[test]
    fn only_servers_with_problems_remain() {
        let mut sick = Instance::unseen(InstanceKey::new("b", 3306));
        sick.problems = vec!["not_replicating".into()];
        let healthy = Instance::unseen(InstanceKey::new("a", 3306));
        let list = vec![
            ClusterOverview { info: ClusterInfo { cluster_name: "a:3306".into(), ..Default::default() }, instances: vec![healthy.clone(), sick] },
            ClusterOverview { info: ClusterInfo { cluster_name: "c:3306".into(), ..Default::default() }, instances: vec![healthy] },
        ];
        let left = with_problems(list);
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].instances.len(), 1);
        assert_eq!(left[0].instances[0].key.hostname, "b");
    }
}
