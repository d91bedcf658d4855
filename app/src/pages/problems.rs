//! The failure analysis (orchestrator's codes, with the facts behind each), then every server
//! with a problem, grouped by cluster. Both follow the node's event stream.

use super::{cluster_href, IconSvg, Icon, LiveClusters, ProblemBadge};
use crate::api::replication_analysis;
use crate::live::use_live;
use crate::model::analysis::ReplicationAnalysis;
use crate::model::{display, ClusterOverview, Instance};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn ProblemsPage() -> impl IntoView {
    let live = use_live();
    // A new analysis whenever the node reports a change.
    let version = RwSignal::new(0u64);
    Effect::new(move |_| {
        live.clusters.with(|_| ());
        version.update(|v| *v += 1);
    });
    let analysis = Resource::new(move || version.get(), |_| replication_analysis());
    view! {
        <h1>"Problems"</h1>
        <section class="sheet analysis">
            <h2>"Failure analysis"</h2>
            <Transition fallback=|| view! { <p class="empty">"Analysing…"</p> }>
                {move || Suspend::new(async move {
                    match analysis.await {
                        Ok(entries) => analysis_view(entries),
                        Err(e) => view! { <p class="error">{format!("Cannot read the analysis: {e}")}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <LiveClusters render=problems live/>
    }
}

fn analysis_view(entries: Vec<ReplicationAnalysis>) -> AnyView {
    if entries.is_empty() {
        return view! { <p class="all-clear analysis-clear"><IconSvg icon=Icon::Ok/>"No failures detected."</p> }.into_any();
    }
    view! {
        <ul class="analysis-list">
            {entries.into_iter().map(|e| view! { <AnalysisItem entry=e/> }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn AnalysisItem(entry: ReplicationAnalysis) -> impl IntoView {
    let e = entry;
    let cluster = e.cluster_details.cluster_name.clone();
    let title = if e.cluster_details.cluster_alias.is_empty() { cluster.clone() } else { e.cluster_details.cluster_alias.clone() };
    let warnings: Vec<String> = e.structure_analysis.iter().map(|w| w.to_string()).collect();
    view! {
        <li data-analysis=e.analysis.as_str() data-instance=e.analyzed_instance_key.to_string()>
            <div class="who">
                <IconSvg icon=Icon::Alert/>
                <strong>{e.analysis.as_str()}</strong>
                " on "<code>{e.analyzed_instance_key.to_string()}</code>
                " in "<A href=cluster_href(&cluster)>{title}</A>
                {e.skippable_due_to_downtime.then(|| view! { <span class="badge">"downtimed"</span> })}
            </div>
            <div class="detail">{e.description.clone()}</div>
            {(!e.inputs.is_empty()).then(|| view! {
                <ul class="inputs">{e.inputs.iter().map(|i| view! { <li>{i.clone()}</li> }).collect_view()}</ul>
            })}
            {(!warnings.is_empty()).then(|| view! { <div class="detail">{format!("Structure: {}", warnings.join(", "))}</div> })}
        </li>
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
