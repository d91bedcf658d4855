//! A cluster's topology page: the graph, the selected server's panel, the confirmation of
//! operations, and a banner when the data is stale. Server-rendered from the node's current
//! view, then kept current by the node's event stream.

mod confirm;
mod panel;

use crate::api::{list_clusters, node_info};
use crate::graph::Graph;
use crate::live::use_live;
use crate::model::ops::Operation;
use crate::model::{ClusterOverview, Instance, InstanceKey};
use crate::rules::drop::Dragged;
use crate::rules::RuleSettings;
use confirm::{propose, ConfirmDialog, Flow};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use panel::InstancePanel;

#[component]
pub fn ClusterPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.with(|p| percent_decoded(&p.get("name").unwrap_or_default()));
    let initial = Resource::new(|| (), |_| list_clusters());
    let info = Resource::new(|| (), |_| node_info());
    view! {
        <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let first = match initial.await {
                    Ok(list) => list,
                    Err(e) => return view! { <p class="error">{format!("Cannot read clusters: {e}")}</p> }.into_any(),
                };
                // Without the node's answer, offer no actions (it may be read-only).
                let (read_only, rules) = info.await.map(|i| (i.read_only, i.rules)).unwrap_or((true, RuleSettings::default()));
                view! { <Topology name=name() first read_only rules/> }.into_any()
            })}
        </Suspense>
    }
}

/// Cluster names travel percent-encoded in the path (`127.0.0.1%3A3306`).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The cluster that now holds most of the servers the page showed, the one named `wanted`
/// on a tie (none when it showed nothing yet, or none of them is left).
fn successor_of(list: &[ClusterOverview], shown: &std::collections::BTreeSet<InstanceKey>, wanted: &str) -> Option<(String, Vec<Instance>)> {
    let best = list
        .iter()
        .map(|c| (c.instances.iter().filter(|i| shown.contains(&i.key)).count(), c.info.cluster_name == wanted, c))
        .filter(|(n, _, _)| *n > 0)
        .max_by_key(|(n, named, _)| (*n, *named))?
        .2;
    members_of(list, &best.info.cluster_name)
}

fn members_of(list: &[ClusterOverview], name: &str) -> Option<(String, Vec<Instance>)> {
    list.iter().find(|c| c.info.cluster_name == name || c.info.cluster_alias == name).map(|c| {
        let title = if c.info.cluster_alias.is_empty() { c.info.cluster_name.clone() } else { c.info.cluster_alias.clone() };
        (title, c.instances.clone())
    })
}

#[component]
fn Topology(name: String, first: Vec<ClusterOverview>, read_only: bool, rules: RuleSettings) -> AnyView {
    let live = use_live();
    let first = StoredValue::new(first);
    let wanted = name.clone();
    // After a failover the cluster is named after its new primary: the page follows the
    // servers it showed, so the tree re-draws instead of disappearing.
    let shown = StoredValue::new(std::collections::BTreeSet::<InstanceKey>::new());
    let cluster = Memo::new(move |_| {
        let found = live.clusters.with(|l| match l {
            Some(list) => shown.with_value(|keys| successor_of(list, keys, &wanted)).or_else(|| members_of(list, &wanted)),
            None => first.with_value(|f| members_of(f, &wanted)),
        });
        if let Some((_, members)) = &found {
            shown.set_value(members.iter().map(|i| i.key.clone()).collect());
        }
        found
    });
    let members = Signal::derive(move || cluster.with(|c| c.as_ref().map(|(_, m)| m.clone()).unwrap_or_default()));
    let selected = RwSignal::new(None::<InstanceKey>);
    let picking = RwSignal::new(None::<Dragged>);
    let flow = RwSignal::new(Flow::Closed);
    let can_write = Signal::derive(move || !read_only);
    let settings = Signal::derive(move || rules);
    let on_drop = Callback::new(move |op: Operation| propose(flow, op));
    let selected_instance = Signal::derive(move || {
        let key = selected.get()?;
        members.with(|m| m.iter().find(|i| i.key == key).cloned())
    });
    view! {
        <div class="topology-page">
            <h1>
                {move || cluster.with(|c| c.as_ref().map(|(t, _)| t.clone()).unwrap_or_else(|| name.clone()))}
                <span class="count">{move || members.with(|m| format!("{} servers", m.len()))}</span>
            </h1>
            {move || live.stale.get().then(|| view! {
                <p class="banner stale" role="alert">"⚠ The node is not answering: what you see may be out of date. Reconnecting…"</p>
            })}
            {move || cluster.with(|c| c.is_none()).then(|| view! {
                <p class="empty">"This cluster is not known to the node (any more)."</p>
            })}
            <div class="topology-body">
                <Graph members selected picking on_drop settings can_write/>
                <InstancePanel instance=selected_instance can_write on_action=on_drop picking on_close=Callback::new(move |_| selected.set(None))/>
            </div>
            <ConfirmDialog flow/>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    #[test]
    fn after_a_failover_the_page_follows_its_servers() {
        use crate::model::{ClusterInfo, ClusterOverview, Instance, InstanceKey};
        let k = |n: &str| InstanceKey::new(n, 3306);
        let cluster = |name: &str, members: &[&str]| ClusterOverview {
            info: ClusterInfo { cluster_name: name.into(), ..Default::default() },
            instances: members.iter().map(|m| Instance::unseen(k(m))).collect(),
        };
        // The dead primary alone keeps the old name; its replicas now form b's cluster.
        let list = vec![cluster("a:3306", &["a"]), cluster("b:3306", &["b", "c"])];
        let shown = [k("a"), k("b"), k("c")].into_iter().collect();
        let (title, members) = super::successor_of(&list, &shown, "a:3306").unwrap();
        assert_eq!((title.as_str(), members.len()), ("b:3306", 2));
        assert!(super::successor_of(&list, &Default::default(), "a:3306").is_none(), "nothing shown yet: go by name");
    }

    #[test]
    fn names_come_back_from_the_path() {
        assert_eq!(super::percent_decoded("127.0.0.1%3A3306"), "127.0.0.1:3306");
        assert_eq!(super::percent_decoded("%5B%3A%3A1%5D%3A3306"), "[::1]:3306");
        assert_eq!(super::percent_decoded("100%"), "100%");
    }
}
