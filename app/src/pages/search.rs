//! Search results (`/search?q=`): servers whose `host:port`, alias, cluster name or cluster alias
//! contains the text. The search box itself is in the top bar.

use super::{cluster_href, ProblemBadge};
use crate::api::{search_instances, SearchHit};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let text = Memo::new(move |_| query.with(|q| q.get("q").unwrap_or_default().trim().to_string()));
    let hits = Resource::new(move || text.get(), search_instances);
    view! {
        <h1>"Search"</h1>
        <Transition fallback=|| view! { <p class="empty">"Searching…"</p> }>
            {move || Suspend::new(async move {
                let text = text.get_untracked();
                match hits.await {
                    _ if text.is_empty() => view! { <p class="empty">"Type a host, alias or cluster in the search box."</p> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{format!("Cannot search: {e}")}</p> }.into_any(),
                    Ok(hits) if hits.is_empty() => view! { <p class="empty">{format!("Nothing matches “{text}”.")}</p> }.into_any(),
                    Ok(hits) => view! { <Results text hits/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Results(text: String, hits: Vec<SearchHit>) -> impl IntoView {
    let summary = format!("{} {} matching “{text}”", hits.len(), if hits.len() == 1 { "server" } else { "servers" });
    view! {
        <p class="muted">{summary}</p>
        <div class="sheet table-scroll">
            <table class="results">
                <thead><tr><th>"Instance"</th><th>"Role"</th><th>"Version"</th><th>"Cluster"</th><th>"Problems"</th></tr></thead>
                <tbody>
                    {hits.into_iter().map(|h| view! { <Hit hit=h/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Hit(hit: SearchHit) -> impl IntoView {
    let h = hit;
    let href = cluster_href(&h.cluster_name);
    let name = if h.alias.is_empty() { h.key.clone() } else { h.alias.clone() };
    let cluster = if h.cluster_alias.is_empty() || h.cluster_alias == h.cluster_name {
        h.cluster_name.clone()
    } else {
        format!("{} ({})", h.cluster_alias, h.cluster_name)
    };
    view! {
        <tr data-instance=h.key.clone()>
            <td class="name">
                <A href=href.clone()><strong>{name}</strong></A>
                {(!h.alias.is_empty()).then(|| view! { <span class="key">{h.key.clone()}</span> })}
            </td>
            <td>{h.role}</td>
            <td>{h.version}</td>
            <td><A href=href attr:class="cluster-link">{cluster}</A></td>
            <td><div class="badges">{h.problems.into_iter().map(|code| view! { <ProblemBadge code/> }).collect_view()}</div></td>
        </tr>
    }
}
